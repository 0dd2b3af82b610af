/**
 * Handlers on node's own request and response. The SCIM API is served without express (app.ts
 * says why), and the middleware it shares with the admin API (the access log, rate limits,
 * authentication) is written against node's types, which express's Request and Response extend,
 * so one function serves both.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type Next = (err?: unknown) => void;

export type Handler<Res extends ServerResponse = ServerResponse> = (req: IncomingMessage, res: Res, next: Next) => void;

export type ErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

/** What the bridge's middleware records on a request as it passes. */
declare module "node:http" {
  interface IncomingMessage {
    requestId: string;
    /** The route template, set by a handler that dispatches on its own (the SCIM API). */
    routeTemplate?: string;
  }
}

/** The path of the request as the client sent it, without the query string (express's `originalUrl` is that URL before mounting). */
export function pathOf(req: IncomingMessage): string {
  const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The path and query string of a request target, read as express reads them: as sent, not
 * normalised (no dot segment resolved, nothing percent-decoded); an absolute-form target
 * (RFC 9112 §3.2.2) by its path; anything from a `#` on dropped (a request target has no fragment,
 * and url.parse, which express falls back to, drops it). Undefined for a target with no path
 * (`*`, or a scheme without `//`).
 */
export function requestTarget(url: string): { path: string; query: string } | undefined {
  const hash = url.indexOf("#");
  let rest = hash === -1 ? url : url.slice(0, hash);
  if (!rest.startsWith("/")) {
    const origin = /^[a-z][a-z\d+.-]*:\/\/[^/?]*/i.exec(rest);
    if (origin === null) return undefined;
    rest = rest.slice(origin[0].length);
    if (!rest.startsWith("/")) rest = `/${rest}`;
  }
  const q = rest.indexOf("?");
  return q === -1 ? { path: rest, query: "" } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** A request header as one string (node joins repeated ones), or undefined. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/**
 * Runs handlers one after another as a single handler, with no path matching between them: each
 * handler's `next()` calls the one after it, and an error (passed to `next` or thrown) goes to
 * `onError`, as it would to an error handler mounted after the stack. A rejected promise counts
 * as thrown, as in express 5.
 */
export function chain(handlers: readonly Handler[], onError: ErrorHandler): (req: IncomingMessage, res: ServerResponse, done: Next) => void {
  return (req, res, done) => {
    let at = 0;
    const fail = (err: unknown): void => {
      try {
        onError(err, req, res, done);
      } catch (e: unknown) {
        done(e);
      }
    };
    const next: Next = (err) => {
      if (err !== undefined && err !== null) return fail(err);
      const handler = handlers[at++];
      if (handler === undefined) return done();
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch(fail);
      } catch (e: unknown) {
        fail(e);
      }
    };
    next();
  };
}

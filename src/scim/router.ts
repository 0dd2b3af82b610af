/**
 * The HTTP side of the SCIM core: content negotiation, body parsing, auth, and the mapping of
 * ScimResponse to HTTP. Every answer, failures included, is `application/scim+json`. It runs on
 * node's own request and response, without express (app.ts says why).
 */
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse as parseQuery } from "node:querystring";
import express from "express";
import { tokenActor } from "../auth/actors.js";
import type { Deny } from "../auth/bearer.js";
import { asBridgeError, type ErrorCode } from "../errors.js";
import { chain, header, requestTarget, type ErrorHandler, type Handler } from "../http/handler.js";
import type { Logger } from "../log.js";
import type { ScimDeps } from "./deps.js";
import { errorFromBridgeError, scimError, type ScimRequest, type ScimResponse } from "./protocol.js";
import { ERROR_SCHEMA } from "./schema.js";
import { handleScim, scimRouteOf } from "./service.js";

export const SCIM_BASE = "/scim/v2";
const CONTENT_TYPE = "application/scim+json; charset=utf-8";

/**
 * Writes a ScimResponse with node's own response methods: express's res.send would add its own
 * freshness (304) logic on top of our ETag handling, and costs measurable CPU per request.
 */
export function send(res: ServerResponse, r: ScimResponse): void {
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (r.body === undefined && r.json === undefined) {
    res.end();
    return;
  }
  const json = r.json ?? JSON.stringify(r.body);
  res.setHeader("Content-Type", CONTENT_TYPE);
  res.setHeader("Content-Length", Buffer.byteLength(json));
  res.end(json);
}

const sendError = (res: ServerResponse, code: ErrorCode, detail: string) => send(res, scimError(code, detail));

export const denyScim: Deny = (res, status, detail) => sendError(res, status === 401 ? "unauthorized" : "forbidden", detail);

/** RFC 7644 §3.1 wants application/scim+json; Okta POSTs application/json. Both, with any parameters. */
function isJsonType(req: IncomingMessage): boolean {
  const type = (header(req, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/scim+json" || type === "application/json";
}

/**
 * RFC 8259 §8.1: JSON between systems is UTF-8. body-parser would decode a `charset=utf-16` body as
 * UTF-16 and replace invalid UTF-8 bytes with U+FFFD, silently storing a userName the IdP never sent.
 */
function requireUtf8(_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string): void {
  if (encoding !== "utf-8") throw Object.assign(new Error(`charset ${encoding}`), { type: "charset.unsupported" });
  if (!isUtf8(body)) throw Object.assign(new Error("The body is not valid UTF-8"), { type: "encoding.invalid" });
}

/**
 * A `\ud800` escape is valid JSON but names half a character, which UTF-8 cannot carry (RFC 8259
 * §8.2): SQLite would store the bytes ED A0 80 and serve "\ufffd\ufffd\ufffd" instead. Refused
 * while parsing, in keys as in values, so no code after the parser ever sees one.
 */
class UnpairedSurrogate extends Error {}
const LONE_SURROGATE = /\p{Surrogate}/u;

function refuseUnpairedSurrogates(key: string, value: unknown): unknown {
  if (LONE_SURROGATE.test(key) || (typeof value === "string" && LONE_SURROGATE.test(value))) {
    throw new UnpairedSurrogate("The body has a \\u escape of an unpaired surrogate (U+D800–U+DFFF), which is not a character");
  }
  return value;
}

function hasBody(req: IncomingMessage): boolean {
  const length = header(req, "content-length");
  return header(req, "transfer-encoding") !== undefined || (length !== undefined && length !== "0");
}

/**
 * Path segments below the SCIM base, percent-decoded; undefined when a segment is not valid
 * percent-encoding (`/Users/%E0%A4%A`), which names no resource: decodeURIComponent would throw.
 */
function pathSegments(path: string): string[] | undefined {
  try {
    return path.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch (e: unknown) {
    if (e instanceof URIError) return undefined;
    throw e;
  }
}

/**
 * The query string's parameters, the first value of each. Parsed flat, as node's querystring does
 * (SCIM parameters are plain strings, never nested objects).
 */
function firstValues(url: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(parseQuery(requestTarget(url)?.query ?? ""))) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === "string") out[k] = first;
  }
  return out;
}

export interface ScimRouterOptions {
  readonly deps: ScimDeps;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  readonly publicUrl: string | undefined;
  /** The scheme the client used (through trusted proxies), for resource locations when no public URL is set. */
  readonly protocol: (req: IncomingMessage) => string;
  /** Run in order before a body is read: the access log, rate limits and authentication. */
  readonly admit: readonly Handler[];
}

/**
 * The path below the SCIM base, as the client sent it (`/Users/2819c223`), or undefined when the
 * request is not for the SCIM API. The base is matched without regard to case, like every other
 * route of the bridge (express's default), so `/SCIM/v2/Users` is the same endpoint.
 */
export function scimPathOf(url: string | undefined): string | undefined {
  const path = url === undefined ? undefined : requestTarget(url)?.path;
  if (path === undefined || path.slice(0, SCIM_BASE.length).toLowerCase() !== SCIM_BASE.toLowerCase()) return undefined;
  const below = path.slice(SCIM_BASE.length);
  if (below === "") return "/";
  return below.startsWith("/") ? below : undefined;
}

/**
 * Names the endpoint a request is for (request-log.ts labels the request metrics with it). Runs
 * ahead of the rate limits and authentication, so their refusals too are counted under the
 * endpoint rather than as unmatched.
 */
const nameScimRoute: Handler = (req, _res, next) => {
  const route = scimRouteOf(pathSegments(scimPathOf(req.url) ?? "") ?? []);
  if (route !== undefined) req.routeTemplate = `${SCIM_BASE}${route}`;
  next();
};

/** The SCIM API: one chain of handlers, answering every failure in SCIM form. Mounted by app.ts for every path scimPathOf accepts. */
export function scimApi(o: ScimRouterOptions): (req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void) => void {
  const parseJson = express.json({ limit: o.maxBodyBytes, type: () => true, strict: true, verify: requireUtf8, reviver: refuseUnpairedSurrogates });
  const readBody: Handler = (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!isJsonType(req)) return sendError(res, "unsupportedMediaType", "Send the body as application/scim+json or application/json");
    parseJson(req, res, next);
  };
  const answer: Handler = (req, res) => {
    const path = scimPathOf(req.url) ?? "/";
    const segments = pathSegments(path);
    if (segments === undefined) return sendError(res, "notFound", `No such endpoint ${path}`);
    const baseUrl = `${o.publicUrl ?? `${o.protocol(req)}://${header(req, "host") ?? "localhost"}`}${SCIM_BASE}`;
    const scimRequest: ScimRequest = {
      method: req.method ?? "GET",
      segments,
      query: firstValues(req.url ?? ""),
      body: (req as { body?: unknown }).body,
      ifMatch: header(req, "if-match"),
      ifNoneMatch: header(req, "if-none-match"),
      context: { actor: req.principal ? tokenActor(req.principal.name) : "unknown", requestId: req.requestId, baseUrl },
    };
    send(res, handleScim(o.deps, scimRequest));
  };
  // Body parser failures and anything unexpected still answer in SCIM form (RFC 7644 §3.12).
  const failed: ErrorHandler = (err, req, res) => {
    const type = (err as { type?: unknown }).type;
    if (type === "entity.too.large") return sendError(res, "payloadTooLarge", `The body is larger than ${o.maxBodyBytes} bytes`);
    // Checked before the type: body-parser labels every error thrown while parsing "entity.parse.failed".
    if (err instanceof UnpairedSurrogate) return sendError(res, "invalidSyntax", err.message);
    if (type === "entity.parse.failed") return sendError(res, "invalidSyntax", "The body is not valid JSON");
    if (type === "encoding.invalid") return sendError(res, "invalidSyntax", "The body is not valid UTF-8");
    if (type === "encoding.unsupported" || type === "charset.unsupported") {
      return sendError(res, "unsupportedMediaType", "Only UTF-8 JSON bodies are accepted");
    }
    if (type === "request.aborted") return;
    // The database refused the write (disk full, locked by another process): RFC 7644 §3.12 form, 507/503/500.
    const known = asBridgeError(err);
    if (known) {
      o.log.warn("SCIM request failed on the database", { requestId: req.requestId, error: known.message });
      return send(res, errorFromBridgeError(known));
    }
    // body-parser's other refusals of what the client sent (a gzip/deflate/br body that does not
    // decompress, a Content-Length that disagrees with the body) carry a 4xx status and no type we
    // name: the request is malformed, not the server broken (RFC 7644 §3.12 invalidSyntax).
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      const why = err instanceof Error ? `: ${err.message}` : "";
      return sendError(res, "invalidSyntax", `The request body could not be read${why}`);
    }
    o.log.error("SCIM request failed", { requestId: req.requestId, error: err });
    // Failed while answering: the status line is out, so the client can only be told by a cut connection.
    if (res.headersSent) return void res.destroy();
    send(res, {
      status: 500,
      body: {
        schemas: [ERROR_SCHEMA],
        status: "500",
        detail: `Internal error; quote request id ${req.requestId} when reporting it`,
      },
    });
  };
  return chain([nameScimRoute, ...o.admit, readBody, answer], failed);
}

/**
 * The HTTP plumbing every simulator needs and none differs in: request and status counters for
 * tests to read, the last-resort error handler, and listening on (and closing) a loopback port.
 * Routes, authentication and error bodies stay with each simulator.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ErrorRequestHandler, Express, RequestHandler, Response } from "express";

/** An error a route throws to answer `status` with `message` in the simulator's error layout. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const bump = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1);

/** How many requests each route got ("GET /api/Agent") and how many answers had each status. */
export class RequestCounter {
  readonly requests = new Map<string, number>();
  readonly statuses = new Map<number, number>();

  /** Middleware: counts the request under `key`, and its status once answered. */
  count(key: string): RequestHandler {
    return (_req, res, next) => {
      bump(this.requests, key);
      res.on("finish", () => bump(this.statuses, res.statusCode));
      next();
    };
  }

  /** A request no route took is counted under its own method and path. */
  countUnrouted(method: string, path: string): void {
    bump(this.requests, `${method} ${path}`);
  }

  requestCount(method: string, route: string): number {
    return this.requests.get(`${method.toUpperCase()} ${route}`) ?? 0;
  }

  reset(): void {
    this.requests.clear();
    this.statuses.clear();
  }
}

/** Turns a thrown SimHttpError, a body-parser error or anything else into an error answer. */
export function errorHandler(
  sendError: (res: Response, status: number, message: string) => void,
  texts: { readonly internal: string; readonly badRequest: string },
): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    if (err instanceof SimHttpError) return sendError(res, err.status, err.message);
    // body-parser errors carry an HTTP status (400 for malformed JSON, 413 for too large).
    const status = typeof (err as { status?: unknown }).status === "number" ? (err as { status: number }).status : 500;
    sendError(res, status, status === 500 ? texts.internal : err instanceof Error ? err.message : texts.badRequest);
  };
}

export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on `host:port` (0: a free port) and resolves once the port is open. */
export async function listen(app: Express, host: string, port: number): Promise<Listening> {
  const server: Server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        // Hung requests would hold close() forever.
        server.closeAllConnections();
      }),
  };
}

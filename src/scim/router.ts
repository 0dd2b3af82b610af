/**
 * Express adapter for the SCIM core: content negotiation, body parsing, auth, and the mapping
 * of ScimResponse to HTTP. Every answer, failures included, is `application/scim+json`.
 */
import { isUtf8 } from "node:buffer";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import { tokenActor } from "../auth/actors.js";
import type { Deny } from "../auth/bearer.js";
import { asBridgeError, type ErrorCode } from "../errors.js";
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
export function send(res: Response, r: ScimResponse): void {
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

const sendError = (res: Response, code: ErrorCode, detail: string) => send(res, scimError(code, detail));

export const denyScim: Deny = (res, status, detail) => sendError(res, status === 401 ? "unauthorized" : "forbidden", detail);

/** RFC 7644 §3.1 wants application/scim+json; Okta POSTs application/json. Both, with any parameters. */
function isJsonType(req: Request): boolean {
  const type = (req.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/scim+json" || type === "application/json";
}

/**
 * RFC 8259 §8.1: JSON between systems is UTF-8. body-parser would decode a `charset=utf-16` body as
 * UTF-16 and replace invalid UTF-8 bytes with U+FFFD, silently storing a userName the IdP never sent.
 */
function requireUtf8(_req: Request, _res: Response, body: Buffer, encoding: string): void {
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

function hasBody(req: Request): boolean {
  const length = req.get("content-length");
  return req.get("transfer-encoding") !== undefined || (length !== undefined && length !== "0");
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

function firstValues(query: Request["query"]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(query)) {
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
  readonly authenticate: express.RequestHandler;
}

/**
 * Names the endpoint a request is for (request-log.ts labels the request metrics with it). Mounted
 * at the SCIM base ahead of the rate limits and authentication, so their refusals too are counted
 * under the endpoint rather than as unmatched.
 */
export function nameScimRoute(req: Request, _res: Response, next: NextFunction): void {
  const route = scimRouteOf(pathSegments(req.path) ?? []);
  if (route !== undefined) req.routeTemplate = `${SCIM_BASE}${route}`;
  next();
}

export function scimRouter(o: ScimRouterOptions): Router {
  const router = express.Router();
  router.use(o.authenticate);
  const parseJson = express.json({ limit: o.maxBodyBytes, type: () => true, strict: true, verify: requireUtf8, reviver: refuseUnpairedSurrogates });
  router.use((req, res, next) => {
    if (!hasBody(req)) return next();
    if (!isJsonType(req)) return sendError(res, "unsupportedMediaType", "Send the body as application/scim+json or application/json");
    parseJson(req, res, next);
  });
  router.use((req, res) => {
    const segments = pathSegments(req.path);
    if (segments === undefined) return sendError(res, "notFound", `No such endpoint ${req.path}`);
    const baseUrl = `${o.publicUrl ?? `${req.protocol}://${req.get("host") ?? "localhost"}`}${SCIM_BASE}`;
    const scimRequest: ScimRequest = {
      method: req.method,
      segments,
      query: firstValues(req.query),
      body: req.body as unknown,
      ifMatch: req.get("if-match"),
      ifNoneMatch: req.get("if-none-match"),
      context: { actor: req.principal ? tokenActor(req.principal.name) : "unknown", requestId: req.requestId, baseUrl },
    };
    send(res, handleScim(o.deps, scimRequest));
  });
  // Body parser failures and anything unexpected still answer in SCIM form (RFC 7644 §3.12).
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
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
    send(res, {
      status: 500,
      body: {
        schemas: [ERROR_SCHEMA],
        status: "500",
        detail: `Internal error; quote request id ${req.requestId} when reporting it`,
      },
    });
  });
  return router;
}

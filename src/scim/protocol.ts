/**
 * The SCIM core's plain request and response. The HTTP framework is a thin adapter around
 * these (scim/router.ts), so the protocol can be tested and benchmarked without express.
 */
import { BridgeError, type ErrorCode } from "../errors.js";
import { ERROR_SCHEMA } from "./schema.js";

export interface RequestContext {
  /** The token that made the request, as an actor (auth/actors.ts); recorded in the audit log. */
  readonly actor: string;
  readonly requestId: string;
  /** Absolute base of the SCIM API, e.g. https://bridge.example.com/scim/v2, for meta.location. */
  readonly baseUrl: string;
}

export interface ScimRequest {
  readonly method: string;
  /** Path below the SCIM base, split on "/", e.g. ["Users", "2819c223"]. */
  readonly segments: readonly string[];
  /** Query parameters, each taken once (the first value when repeated). */
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  readonly ifMatch?: string | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly context: RequestContext;
}

export interface ScimResponse {
  readonly status: number;
  readonly body?: unknown;
  /** The body already serialised (a list page, written resource by resource); sent instead of `body`. */
  readonly json?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const STATUS: Record<ErrorCode, { status: number; scimType?: string }> = {
  invalidFilter: { status: 400, scimType: "invalidFilter" },
  tooMany: { status: 400, scimType: "tooMany" },
  uniqueness: { status: 409, scimType: "uniqueness" },
  mutability: { status: 400, scimType: "mutability" },
  invalidSyntax: { status: 400, scimType: "invalidSyntax" },
  invalidPath: { status: 400, scimType: "invalidPath" },
  noTarget: { status: 400, scimType: "noTarget" },
  invalidValue: { status: 400, scimType: "invalidValue" },
  invalidVers: { status: 400, scimType: "invalidVers" },
  sensitive: { status: 403, scimType: "sensitive" },
  invalidCursor: { status: 400, scimType: "invalidCursor" },
  expiredCursor: { status: 400, scimType: "expiredCursor" },
  invalidCount: { status: 400, scimType: "invalidCount" },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  notFound: { status: 404 },
  methodNotAllowed: { status: 405 },
  preconditionFailed: { status: 412 },
  payloadTooLarge: { status: 413 },
  unsupportedMediaType: { status: 415 },
  notImplemented: { status: 501 },
  databaseUnavailable: { status: 500 },
  databaseBusy: { status: 503 },
  insufficientStorage: { status: 507 },
};

/**
 * Seconds a client should wait before retrying while another process holds the database's write
 * lock (RFC 9110 §10.2.3): about one busy_timeout (database.ts), the time a write waits for it.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Headers an error answer carries besides its body: the challenge of a 401, the Retry-After of a busy database. */
export function errorHeaders(code: ErrorCode): Record<string, string> {
  if (code === "unauthorized") return { "WWW-Authenticate": 'Bearer realm="scim-bridge"' };
  if (code === "databaseBusy") return { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) };
  return {};
}

/** RFC 7644 §3.12 error body. `status` is a string, as the RFC's examples and Okta's tests expect. */
export function scimError(code: ErrorCode, detail: string): ScimResponse {
  const { status, scimType } = STATUS[code];
  return {
    status,
    body: { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail },
    headers: errorHeaders(code),
  };
}

export function errorFromBridgeError(e: BridgeError): ScimResponse {
  return scimError(e.code, e.message);
}

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code].status;
}

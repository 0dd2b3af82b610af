/**
 * The one error type of the bridge. Domain code throws a BridgeError with a code;
 * the HTTP edge (scim/protocol.ts for SCIM, admin/problem.ts for the admin API) turns the code into a wire body.
 * Codes are a closed set so every caller and every mapping stays exhaustive.
 */
import { databaseFailureOf, describeFailure, type DatabaseFailureKind } from "./db/database-failure.js";

export type ErrorCode =
  // RFC 7644 §3.12 scimType values, each a 400 unless noted.
  | "invalidFilter"
  | "tooMany"
  | "uniqueness" // 409
  | "mutability"
  | "invalidSyntax"
  | "invalidPath"
  | "noTarget"
  | "invalidValue"
  | "invalidVers"
  | "sensitive" // 403
  // RFC 9865 §2.1 scimType values of cursor paging, each a 400.
  | "invalidCursor"
  | "expiredCursor"
  | "invalidCount"
  // Plain HTTP outcomes without a scimType.
  | "unauthorized" // 401
  | "forbidden" // 403
  | "notFound" // 404
  | "methodNotAllowed" // 405
  | "preconditionFailed" // 412
  | "payloadTooLarge" // 413
  | "unsupportedMediaType" // 415
  | "notImplemented" // 501
  // The database cannot take the write now (database-failure.ts); the request may be retried.
  | "databaseUnavailable" // 500
  | "databaseBusy" // 503, with Retry-After
  | "insufficientStorage"; // 507

export class BridgeError extends Error {
  override readonly name = "BridgeError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBridgeError(e: unknown): e is BridgeError {
  return e instanceof BridgeError;
}

const DATABASE_CODES: Readonly<Record<DatabaseFailureKind, ErrorCode>> = {
  full: "insufficientStorage",
  busy: "databaseBusy",
  unavailable: "databaseUnavailable",
};

/**
 * A BridgeError as is, or a database failure (full disk, lock held elsewhere, I/O error) as the
 * BridgeError the edges answer with; undefined for anything else (a bug: the edges' generic 500).
 * The one mapping of SqliteError to the wire, for SCIM and the admin API alike.
 */
export function asBridgeError(e: unknown): BridgeError | undefined {
  if (isBridgeError(e)) return e;
  const failure = databaseFailureOf(e);
  if (!failure) return undefined;
  return new BridgeError(DATABASE_CODES[failure.kind], `The change could not be stored now: ${describeFailure(failure)}; try again later`, { cause: e });
}

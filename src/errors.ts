/**
 * The one error type of the bridge. Domain code throws a BridgeError with a code;
 * the HTTP edge (scim/protocol.ts for SCIM, admin/problem.ts for the admin API) turns the code into a wire body.
 * Codes are a closed set so every caller and every mapping stays exhaustive.
 */
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
  // Plain HTTP outcomes without a scimType.
  | "unauthorized" // 401
  | "forbidden" // 403
  | "notFound" // 404
  | "methodNotAllowed" // 405
  | "preconditionFailed" // 412
  | "payloadTooLarge" // 413
  | "unsupportedMediaType" // 415
  | "notImplemented"; // 501

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

/**
 * One readable error for everything HaloPSA can answer. HaloPSA's error bodies come in several
 * layouts (domain.md; HaloAPI's Private/New-HaloError.ps1 handles the same ones):
 * `{ClassName, Message}`, `{resultCode, errorMessage}`, `{Message}`, `{error, error_description}`,
 * ASP.NET problem details `{title, errors}`, plain text (the 429 answer), or nothing at all.
 */

export type HaloPsaErrorKind =
  /** HaloPSA answered with an error status. */
  | "http"
  /** No answer within the client's timeout. */
  | "timeout"
  /** The connection failed or broke. */
  | "network"
  /** HaloPSA answered 2xx with something the client cannot read. */
  | "response";

export class HaloPsaError extends Error {
  override readonly name = "HaloPsaError";
  /** The HTTP status, or null when no answer came back (timeout, network). */
  readonly status: number | null;
  /** Whether trying the same thing later may succeed (429, 5xx, timeouts, network errors). */
  readonly retryable: boolean;
  readonly kind: HaloPsaErrorKind;
  /** e.g. "POST /api/Agent" (never the query string). */
  readonly request: string;
  /**
   * True when HaloPSA may have carried the request out although the client saw it fail
   * (timeout, broken connection, 5xx): a create must be looked up before it is repeated.
   */
  readonly ambiguous: boolean;

  constructor(init: { kind: HaloPsaErrorKind; status: number | null; request: string; detail: string; retryable: boolean; ambiguous?: boolean; cause?: unknown }) {
    const what = init.status !== null ? `${init.status}` : init.kind;
    super(`HaloPSA ${init.request} failed (${what}): ${init.detail}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.retryable = init.retryable;
    this.kind = init.kind;
    this.request = init.request;
    this.ambiguous = init.ambiguous ?? false;
  }
}

/** A setting or mapping that cannot be turned into a HaloPSA request (unknown team or role name...). Retrying will not help. */
export class HaloPsaMappingError extends Error {
  override readonly name = "HaloPsaMappingError";
  readonly retryable = false;
}

export function isHaloPsaError(e: unknown): e is HaloPsaError {
  return e instanceof HaloPsaError;
}

const MAX_DETAIL = 300;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : undefined;
}

function fromObject(o: Record<string, unknown>): string | undefined {
  const message = str(o["Message"]) ?? str(o["message"]);
  const className = str(o["ClassName"]);
  if (className && message) return `${message} (${className})`;
  const errorMessage = str(o["errorMessage"]);
  if (errorMessage) return str(o["resultCode"]) ? `${errorMessage} (result code ${str(o["resultCode"])})` : errorMessage;
  if (message) return message;
  const error = str(o["error"]);
  if (error) return str(o["error_description"]) ? `${error}: ${str(o["error_description"])}` : error;
  if (o["error"] !== null && typeof o["error"] === "object") return fromObject(o["error"] as Record<string, unknown>);
  // ASP.NET Core ValidationProblemDetails: {title, errors: {field: [messages]}}.
  const title = str(o["title"]);
  if (title) {
    const errors = o["errors"] !== null && typeof o["errors"] === "object" ? Object.entries(o["errors"] as Record<string, unknown>) : [];
    const listed = errors.map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`).join("; ");
    return listed ? `${title} ${listed}` : title;
  }
  return undefined;
}

/** The human part of an error body, whatever its layout; "" when there is none. */
export function describeErrorBody(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  let detail: string | undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === "string") detail = parsed;
    else if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) detail = fromObject(parsed as Record<string, unknown>);
  } catch {
    // Not JSON: an HTML error page or plain text such as the 429 answer.
    detail = trimmed.replace(/<[^>]*>/g, " ");
  }
  const oneLine = (detail ?? trimmed).replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL)}…` : oneLine;
}

/** Replaces every secret (client secret, access tokens) found in a text. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[redacted]");
  return out.replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/g, "Bearer [redacted]");
}

/**
 * The human part of an API's error answer, and the scrubbing of secrets from it. HaloPSA's error
 * bodies come in several layouts (HaloPSA API reference; the HaloAPI PowerShell module's
 * New-HaloError handles the same ones), and Huntress's Grape `{"error": ...}` is one of them:
 * `{ClassName, Message}`, `{resultCode, errorMessage}`, `{Message}`, `{error, error_description}`,
 * ASP.NET problem details `{title, errors}`, plain text (the 429 answer), or nothing at all.
 *
 * The text given here is already scrubbed of every secret (src/domain/secret-scrubber.ts): the cut
 * below must never be the first thing to touch a secret, or a secret split by it would survive.
 */

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

/**
 * A failed connection in words: which host and port, and why (refused, no such name, timed out,
 * a TLS certificate the client rejects). undici's `fetch` throws a bare "fetch failed" and puts the
 * system or TLS error on `cause` (Node.js docs, "Common system errors"; undici's `errors.js`).
 */

/** `host:port` of a URL, with the scheme's default port when none is written. */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "");
    return port ? `${u.hostname}:${port}` : u.hostname;
  } catch {
    return "(invalid URL)";
  }
}

/** Words for a system or TLS error code; undefined for a code without a known meaning. */
export function causeInWords(code: string, message: string): string | undefined {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (nothing listens on that port, or a firewall rejects it)";
    case "ENOTFOUND":
      return "name not found (check the host name in the URL)";
    case "EAI_AGAIN":
      return "name lookup failed for now (the DNS server did not answer)";
    case "ECONNRESET":
      return "connection reset by the server or a proxy";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable (no network route to it)";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "timed out while connecting";
    case "UND_ERR_SOCKET":
      return "the connection closed unexpectedly";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `TLS certificate problem: ${message}`;
    default:
      if (code.startsWith("CERT_") || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")) return `TLS certificate problem: ${message}`;
      return undefined;
  }
}

/** The innermost error with a code, as undici nests them (fetch failed → cause → maybe an AggregateError). */
function codedCause(e: unknown): { code: string; message: string } | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    // An AggregateError (happy eyeballs over IPv4 and IPv6) carries the code of its first error.
    if (typeof code === "string" && code !== "UND_ERR") return { code, message: current.message };
    const inner: unknown = current instanceof AggregateError && current.errors.length > 0 ? current.errors[0] : current.cause;
    current = inner;
  }
  return undefined;
}

/** "cannot reach 127.0.0.1:9: connection refused (…)" for a fetch to `url` that threw `e`. */
export function describeNetworkError(url: string, e: unknown): { detail: string; code: string | undefined } {
  const found = codedCause(e);
  const endpoint = endpointOf(url);
  if (!found) {
    const inner = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    return { detail: `cannot reach ${endpoint}: ${inner}`, code: undefined };
  }
  const words = causeInWords(found.code, found.message) ?? `${found.message} (${found.code})`;
  return { detail: `cannot reach ${endpoint}: ${words}`, code: found.code };
}

/** The timeout's words: "no answer from api.example.com:443 within 30 s". */
export function describeTimeout(url: string, timeoutMs: number): string {
  const seconds = timeoutMs >= 1000 ? `${Math.round((timeoutMs / 1000) * 10) / 10} s` : `${timeoutMs} ms`;
  return `timed out after ${seconds}: no answer from ${endpointOf(url)}`;
}

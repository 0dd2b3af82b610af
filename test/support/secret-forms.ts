/**
 * The forms an upstream could echo a secret in, for the scrubbing tests (docs/operations.md, "Secrets").
 */

/** Each form of `secret` an upstream could echo, by name; `user`, when it is sent as HTTP Basic, is the other half of its pair. */
export function echoedForms(secret: string, user?: string): Record<string, string> {
  const json = JSON.stringify(secret).slice(1, -1);
  return {
    raw: secret,
    "URL-encoded (%20)": encodeURIComponent(secret),
    "URL-encoded, lower-case hex": encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    "form-encoded (+)": new URLSearchParams({ s: secret }).toString().slice(2),
    "JSON-escaped": json,
    "JSON-escaped with \\/": json.replace(/\//g, "\\/"),
    "JSON-escaped, .NET style": json.replace(/[+<>&'`]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`),
    base64: Buffer.from(secret).toString("base64"),
    base64url: Buffer.from(secret).toString("base64url"),
    ...(user === undefined ? {} : { "Basic user:secret": Buffer.from(`${user}:${secret}`).toString("base64") }),
  };
}


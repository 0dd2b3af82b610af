/**
 * CSRF tokens: only the exact token of the session passes.
 */
import { describe, expect, it } from "vitest";
import { csrfTokenMatches, newCsrfToken } from "../../src/admin/web/csrf.js";
import { safeNext } from "../../src/admin/web/sign-in.js";

describe("CSRF token check", () => {
  const token = newCsrfToken();

  it("accepts the session's own token", () => {
    expect(csrfTokenMatches(token, token)).toBe(true);
  });

  it("refuses a missing, empty, wrong, truncated or non-string token", () => {
    expect(csrfTokenMatches(token, undefined)).toBe(false);
    expect(csrfTokenMatches(token, "")).toBe(false);
    expect(csrfTokenMatches(token, newCsrfToken())).toBe(false);
    expect(csrfTokenMatches(token, token.slice(0, -1))).toBe(false);
    expect(csrfTokenMatches(token, `${token}x`)).toBe(false);
    expect(csrfTokenMatches(token, [token])).toBe(false);
    expect(csrfTokenMatches(token, { toString: () => token })).toBe(false);
  });

  it("refuses everything when there is no expected token (no session, no sign-in cookie)", () => {
    expect(csrfTokenMatches(undefined, token)).toBe(false);
    expect(csrfTokenMatches("", "")).toBe(false);
  });

  it("makes a different 256-bit token each time", () => {
    const tokens = new Set(Array.from({ length: 100 }, newCsrfToken));
    expect(tokens.size).toBe(100);
    expect(Buffer.from(token, "base64url")).toHaveLength(32);
  });
});

describe("where sign-in sends a person afterwards", () => {
  it("keeps a path under /admin", () => {
    expect(safeNext("/admin/users/abc")).toBe("/admin/users/abc");
    expect(safeNext("/admin?did=done&task=3")).toBe("/admin?did=done&task=3");
  });

  it("never leaves the site or the review page", () => {
    for (const bad of ["https://evil.example/admin", "//evil.example/admin", "/admin//evil.example", "/administrator", "/scim/v2/Users", "/admin\\@evil", "javascript:alert(1)", "/admin/sign-in?next=x", undefined, 42]) {
      expect(safeNext(bad)).toBe("/admin");
    }
  });
});

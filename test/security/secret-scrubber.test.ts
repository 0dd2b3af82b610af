/**
 * The one secret scrubber: each form an upstream could echo a secret in, pieces left by a cut, and
 * secrets learnt at runtime.
 */
import { describe, expect, it } from "vitest";
import { PIECE, SecretScrubber } from "../../src/domain/secret-scrubber.js";
import { echoedForms } from "../support/secret-forms.js";

/** A secret with a space, `+ / =`, a quote, a backslash and HTML-sensitive characters: every encoding changes it. */
const SECRET = 'Zq9 sEcReT+/=xY"\\<&>kLmNoPqRsTuVwXyZ0123456789';
const ID = "bridge-client";

/** Any PIECE characters in a row of `form`. */
function pieceOf(text: string, form: string): string | undefined {
  for (let i = 0; i + PIECE <= form.length; i++) if (text.includes(form.slice(i, i + PIECE))) return form.slice(i, i + PIECE);
  return undefined;
}

describe("the secret scrubber", () => {
  const scrubber = new SecretScrubber();
  scrubber.register(SECRET, { user: ID });

  for (const [name, form] of Object.entries(echoedForms(SECRET, ID))) {
    it(`removes the secret ${name}, with no piece of it left`, () => {
      const out = scrubber.scrub(`upstream said: client_secret=${form}; please check`);
      expect(out).toContain("[redacted]");
      expect(out).toContain("upstream said: client_secret=");
      expect(pieceOf(out, form)).toBeUndefined();
    });
  }

  it("removes a secret an upstream cut itself, and any 12 characters of it in a row", () => {
    expect(scrubber.scrub(`truncated: ${SECRET.slice(0, 20)}`)).toBe("truncated: [redacted]");
    expect(scrubber.scrub(`middle: ${SECRET.slice(9, 30)}!`)).toBe("middle: [redacted]!");
  });

  it("scrubs before it cuts, so a secret across the cut leaves none of its characters", () => {
    const text = `${"x".repeat(290)}${SECRET} trailing`;
    const cut = scrubber.cut(text, 300);
    expect(cut).toBe(`${"x".repeat(290)}[redacted]…`);
    expect(cut).not.toContain(SECRET.slice(0, 4));
  });

  it("leaves ordinary text alone", () => {
    expect(scrubber.scrub("HaloPSA POST /api/Agent failed (400): Email address is already in use")).toBe("HaloPSA POST /api/Agent failed (400): Email address is already in use");
  });

  it("removes tokens learnt at runtime, and any Bearer or Basic credential whoever it belongs to", () => {
    const s = new SecretScrubber();
    const token = "eyJhbGciOiJIUzI1NiJ9.runtime-access-token.signature";
    expect(s.scrub(`echo ${token}`)).toContain(token);
    s.registerRotating(token);
    expect(s.scrub(`echo ${token} and ${encodeURIComponent(token)}`)).toBe("echo [redacted] and [redacted]");
    expect(s.scrub("Authorization: Bearer abcdefgh12345678 and Basic dXNlcjpwYXNzd29yZDEyMw==")).toBe("Authorization: Bearer [redacted] and Basic [redacted]");
  });
});

/**
 * What a browser is told: every answer forbids content sniffing; the review page forbids inline
 * script and framing and sends no referrer; its cookies are Secure exactly when the request came
 * over HTTPS as express sees it (X-Forwarded-Proto counts only from a trusted proxy); and an
 * oversized form gets 413 as a page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";

/** The review page's sign-in: the form (its CSRF value and cookie), then the POST; returns every Set-Cookie seen. */
async function signIn(origin: string, headers: Record<string, string>): Promise<{ status: number; cookies: string[] }> {
  const form = await fetch(`${origin}/admin/sign-in`, { headers });
  const formCookie = form.headers.getSetCookie()[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${origin}/admin/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded", Cookie: formCookie.split(";")[0]! },
    body: new URLSearchParams({ csrf, token: ADMIN_TOKEN, next: "/admin" }),
  });
  return { status: res.status, cookies: [formCookie, ...res.headers.getSetCookie()] };
}

/** The directives of a Content-Security-Policy header by name. */
function directives(csp: string | null): Map<string, string[]> {
  return new Map((csp ?? "").split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([name, ...values]) => [name!, values]));
}

describe("security headers", () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(() => bridge.close());

  it("sends nosniff with every API answer, errors included", async () => {
    const url = bridge.running.url;
    const answers = [
      await fetch(`${bridge.baseUrl}/Users`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      await fetch(`${bridge.baseUrl}/Users`),
      await fetch(`${url}/admin/api/jobs`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      await fetch(`${url}/admin/api/no-such-thing`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
      await fetch(`${url}/healthz`),
      await fetch(`${url}/no-such-path`),
    ];
    expect(answers.map((r) => r.status)).toEqual([403, 401, 200, 404, 200, 404]);
    expect((await bridge.scim("GET", "/Users")).headers.get("x-content-type-options")).toBe("nosniff");
    for (const r of answers) expect(r.headers.get("x-content-type-options"), r.url).toBe("nosniff");
  });

  it("serves the review page with a CSP that allows no inline script, denies framing, and sends no referrer", async () => {
    const page = await fetch(`${bridge.running.url}/admin/sign-in`);
    expect(page.status).toBe(200);
    const csp = directives(page.headers.get("content-security-policy"));
    const scripts = csp.get("script-src") ?? csp.get("default-src")!;
    expect(scripts).toEqual(["'self'"]);
    expect(page.headers.get("content-security-policy")).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await page.text()).not.toMatch(/<script(?![^>]*\bsrc=)/);
  });

  it("answers a sign-in form over its size limit with 413 as a page, with the page's headers", async () => {
    const res = await fetch(`${bridge.running.url}/admin/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "x".repeat(40_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const text = await res.text();
    expect(text).toContain("<h1>Request refused</h1>");
    expect(text).not.toContain("x".repeat(100));
  });
});

describe("review page cookies", () => {
  const cases = [
    { trustProxy: "false", forwardedProto: "https", secure: false, why: "a client's own X-Forwarded-Proto is not believed" },
    { trustProxy: "loopback", forwardedProto: "https", secure: true, why: "the trusted proxy says the client used HTTPS" },
    { trustProxy: "loopback", forwardedProto: "http", secure: false, why: "the trusted proxy says the client used plain HTTP" },
  ] as const;
  for (const c of cases) {
    it(`are ${c.secure ? "" : "not "}Secure with trust proxy ${c.trustProxy} and X-Forwarded-Proto: ${c.forwardedProto}: ${c.why}`, async () => {
      const bridge = await startBridge({ SCIM_BRIDGE_TRUST_PROXY: c.trustProxy });
      try {
        const { status, cookies } = await signIn(bridge.running.url, { "X-Forwarded-Proto": c.forwardedProto });
        expect(status).toBe(303);
        const session = cookies.find((k) => k.startsWith("scim_bridge_session="));
        expect(session).toBeDefined();
        expect(cookies.filter((k) => k.startsWith("scim_bridge_sign_in=")).length).toBeGreaterThan(0);
        for (const cookie of cookies) {
          expect(cookie).toMatch(/; HttpOnly/);
          expect(cookie).toMatch(/; SameSite=Strict/);
          if (c.secure) expect(cookie, cookie).toMatch(/; Secure/);
          else expect(cookie, cookie).not.toMatch(/; Secure/);
        }
      } finally {
        await bridge.close();
      }
    });
  }
});

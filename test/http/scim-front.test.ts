/**
 * The SCIM API is served ahead of express (src/http/app.ts): which requests it takes, and that it
 * reads the client's scheme through trusted proxies exactly as the express side does.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { create } from "../support/scim.js";

const auth = { authorization: `Bearer ${SCIM_TOKEN}` };

/** One raw HTTP/1.1 exchange, for request targets fetch cannot send (absolute-form). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(request));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (answer += d));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

describe("the SCIM front", () => {
  let bridge: TestBridge;
  let origin: string;
  beforeAll(async () => {
    bridge = await startBridge();
    origin = bridge.running.url;
    await create(bridge, "Users", { userName: "front@example.com" });
  });
  afterAll(() => bridge.close());

  it("takes the SCIM base in any letter case, and the base alone", async () => {
    const upper = await fetch(`${origin}/SCIM/V2/Users?filter=${encodeURIComponent('userName eq "front@example.com"')}`, { headers: auth });
    expect(upper.status).toBe(200);
    expect(upper.headers.get("content-type")).toBe("application/scim+json; charset=utf-8");
    expect(((await upper.json()) as { totalResults: number }).totalResults).toBe(1);
    const base = await fetch(`${origin}/scim/v2`, { headers: auth });
    expect(base.status).toBe(404);
    expect(base.headers.get("content-type")).toBe("application/scim+json; charset=utf-8");
    expect(base.headers.get("x-request-id")).toMatch(/^[\w-]+$/);
    expect(base.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("leaves a path that only starts like the base to the rest of the bridge", async () => {
    const res = await fetch(`${origin}/scim/v2x/Users`, { headers: auth });
    expect(res.status).toBe(404);
    // The bridge's answer to an IdP configured without the base, not the SCIM API's own 404.
    expect(((await res.json()) as { detail: string }).detail).toMatch(/^No such endpoint \/scim\/v2x\/Users: the SCIM endpoints are under \/scim\/v2 /);
  });

  it("serves an absolute-form request target (RFC 9112 §3.2.2) like its path", async () => {
    const port = Number(new URL(origin).port);
    const answer = await raw(port, `GET ${origin}/scim/v2/Users?count=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${SCIM_TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain("urn:ietf:params:scim:api:messages:2.0:ListResponse");
  });

  it("reads an absolute-form target's path as sent: dot segments are not resolved into another endpoint", async () => {
    const port = Number(new URL(origin).port);
    const get = (target: string) => raw(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${SCIM_TOKEN}\r\nConnection: close\r\n\r\n`);
    // As an origin-form target, neither names /Users: the first is outside the base, the second a SCIM 404.
    expect(await get(`${origin}/x/../scim/v2/Users`)).toMatch(/^HTTP\/1\.1 404 [\s\S]*the SCIM endpoints are under/);
    expect(await get(`${origin}/scim/v2/%2e%2e/v2/Users`)).toMatch(/^HTTP\/1\.1 404 [\s\S]*No such endpoint \/\.\.\/v2\/Users/);
  });

  it("drops a fragment from the target, as it never names part of the request", async () => {
    const port = Number(new URL(origin).port);
    const answer = await raw(port, `GET /scim/v2/Users?count=1#frag HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${SCIM_TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"itemsPerPage":1');
  });

  it("answers a body the client cannot have meant in SCIM form, with its request id", async () => {
    const res = await fetch(`${origin}/scim/v2/Users`, { method: "POST", headers: { ...auth, "content-type": "application/scim+json" }, body: "{not json" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { scimType: string };
    expect(body.scimType).toBe("invalidSyntax");
    expect(bridge.logLines.some((l) => l.includes(res.headers.get("x-request-id")!) && l.includes('"status":400'))).toBe(true);
  });
});

describe("the scheme of resource locations", () => {
  const cases = [
    { trustProxy: "false", forwardedProto: "https", scheme: "http", why: "a client's own X-Forwarded-Proto is not believed" },
    { trustProxy: "loopback", forwardedProto: "https", scheme: "https", why: "the trusted proxy says the client used HTTPS" },
    { trustProxy: "loopback", forwardedProto: "https, http", scheme: "https", why: "the first of several values counts" },
  ] as const;
  for (const c of cases) {
    it(`is ${c.scheme} with trust proxy ${c.trustProxy} and X-Forwarded-Proto: ${c.forwardedProto}: ${c.why}`, async () => {
      const bridge = await startBridge({ SCIM_BRIDGE_TRUST_PROXY: c.trustProxy });
      try {
        const created = await bridge.scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "scheme@example.com" }, { "X-Forwarded-Proto": c.forwardedProto });
        expect(created.status).toBe(201);
        expect(created.headers.get("location")).toMatch(new RegExp(`^${c.scheme}://127\\.0\\.0\\.1:\\d+/scim/v2/Users/`));
      } finally {
        await bridge.close();
      }
    });
  }
});

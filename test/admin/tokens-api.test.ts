/**
 * Token lifecycle over the admin API: a real bridge on loopback with a real SQLite file, tokens
 * created, rotated and revoked with the admin token, each new secret then used against SCIM over
 * HTTP the way an IdP would. Reviewer and SCIM tokens are refused; every change is audited with
 * the caller's token name and request id; secrets appear once, uncached, and nowhere else.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_NAME, startTaskBridge, type ApiResult, type TaskBridge } from "../support/admin.js";
import { SCIM_TOKEN } from "../support/bridge.js";
import { reviewPageStatus, signInOverHttp } from "../support/web-session.js";

let t: TaskBridge;
beforeAll(async () => {
  t = await startTaskBridge();
});
afterAll(async () => t.close());

const scimStatus = async (token: string) => (await t.bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${token}` })).status;

function expectProblem(r: ApiResult, status: number): string {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return r.body.detail as string;
}

/** A fresh SCIM token through the API; returns its id and secret. */
async function created(name: string): Promise<{ id: number; secret: string }> {
  const r = await t.admin("POST", "/tokens", { name, scope: "scim" });
  expect(r.status, r.text).toBe(201);
  return { id: r.body.token.id as number, secret: r.body.secret as string };
}

describe("the tokens API", () => {
  const secrets: string[] = [];

  it("creates a token whose secret is shown once, uncached, and works at once in its scope only", async () => {
    const r = await t.admin("POST", "/tokens", { name: "okta", scope: "scim" }, { "X-Request-Id": "req-create-okta" });
    expect(r.status, r.text).toBe(201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body).toEqual({
      secret: expect.stringMatching(/^scimbridge_[\w-]{43}$/),
      token: { id: expect.any(Number), name: "okta", scope: "scim", createdAt: expect.any(String), lastUsedAt: null, expiresAt: null, revokedAt: null, replacedBy: null, state: "active" },
    });
    secrets.push(r.body.secret);
    expect(await scimStatus(r.body.secret)).toBe(200);
    expect((await t.request(r.body.secret, "GET", "/tokens")).status).toBe(403);

    const list = await t.admin("GET", "/tokens");
    expect(list.status).toBe(200);
    expect(list.headers.get("cache-control")).not.toBe("no-store");
    const okta = (list.body.tokens as any[]).find((x) => x.id === r.body.token.id);
    expect(okta).toMatchObject({ name: "okta", state: "active", lastUsedAt: expect.stringMatching(/^20/) });
    expect(list.text).not.toContain(r.body.secret);
    expect(list.text).not.toMatch(/hash|[0-9a-f]{64}/);
  });

  it("rotates with an overlap: both secrets work until the old one's expiry, which the list shows", async () => {
    const old = await created("entra");
    const before = Date.now();
    const r = await t.admin("POST", `/tokens/${old.id}/rotate`, { overlapSeconds: 3600 }, { "X-Request-Id": "req-rotate-entra" });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.token).toMatchObject({ name: "entra", scope: "scim", state: "active", expiresAt: null });
    expect(r.body.previous).toMatchObject({ id: old.id, state: "expiring", revokedAt: null });
    expect(Date.parse(r.body.previous.expiresAt) - before).toBeGreaterThanOrEqual(3_600_000 - 1000);
    expect(Date.parse(r.body.previous.expiresAt) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(r.body.sessionsEnded).toBe(0);
    secrets.push(old.secret, r.body.secret);
    expect(await scimStatus(old.secret)).toBe(200);
    expect(await scimStatus(r.body.secret)).toBe(200);

    // Rotating the rotated-out token again is refused: its successor is the one to rotate.
    expect(expectProblem(await t.admin("POST", `/tokens/${old.id}/rotate`), 412)).toMatch(/rotated already.*rotate its successor/);
    // The default overlap is a day.
    const next = await t.admin("POST", `/tokens/${r.body.token.id}/rotate`);
    expect(next.status, next.text).toBe(200);
    expect(Date.parse(next.body.previous.expiresAt) - Date.now()).toBeGreaterThan(86_400_000 - 60_000);
    secrets.push(next.body.secret);
  });

  it("rotates with overlapSeconds 0 and revokes: the old secret is refused at once and the web sessions signed in with it end", async () => {
    const old = await created("jumpcloud");
    secrets.push(old.secret);
    const ops = await t.admin("POST", "/tokens", { name: "ops-desk", scope: "admin" });
    secrets.push(ops.body.secret);
    const origin = t.bridge.running.url;
    const session = await signInOverHttp(origin, ops.body.secret);
    expect(await reviewPageStatus(origin, session)).toBe(200);
    const opsRotated = await t.admin("POST", "/tokens/ops-desk/rotate", { overlapSeconds: 0 });
    expect(opsRotated.body).toMatchObject({ previous: { id: ops.body.token.id, state: "revoked", replacedBy: opsRotated.body.token.id }, sessionsEnded: 1 });
    secrets.push(opsRotated.body.secret);
    expect(await reviewPageStatus(origin, session)).toBe(303);

    const r = await t.admin("POST", `/tokens/${old.id}/rotate`, { overlapSeconds: 0 });
    expect(r.status, r.text).toBe(200);
    expect(r.body.previous).toMatchObject({ state: "revoked", revokedAt: expect.stringMatching(/^20/) });
    expect(r.body.sessionsEnded).toBe(0);
    expect(await scimStatus(old.secret)).toBe(401);
    expect(await scimStatus(r.body.secret)).toBe(200);
    secrets.push(r.body.secret);

    const revoked = await t.admin("POST", `/tokens/${r.body.token.id}/revoke`, undefined, { "X-Request-Id": "req-revoke-jumpcloud" });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ token: { id: r.body.token.id, state: "revoked" }, sessionsEnded: 0 });
    expect(revoked.headers.get("cache-control")).not.toBe("no-store");
    expect(await scimStatus(r.body.secret)).toBe(401);
    expect(expectProblem(await t.admin("POST", `/tokens/${r.body.token.id}/revoke`), 412)).toMatch(/was revoked at 20/);
    expect(expectProblem(await t.admin("POST", `/tokens/${r.body.token.id}/rotate`), 412)).toBe(`token ${r.body.token.id} is revoked`);
  });

  it("keeps names unique among active tokens, refuses reserved names, and refuses a name that a rotated-out token shares with its successor, listing both ids", async () => {
    const pager = await created("pager");
    secrets.push(pager.secret);
    expect(expectProblem(await t.admin("POST", "/tokens", { name: "pager", scope: "admin" }), 409)).toBe(
      `token ${pager.id} is already named "pager"; rotate it for a new secret, revoke it first, or choose another name`,
    );
    for (const name of ["worker", "CLI", " system ", "reconciler", "42"]) {
      expect(expectProblem(await t.admin("POST", "/tokens", { name, scope: "admin" }), 400), name).toMatch(/body name: must not (be one of the names the bridge records for itself|be a number)/);
    }

    const rotated = await t.admin("POST", "/tokens/pager/rotate", { overlapSeconds: 3600 });
    expect(rotated.body.previous).toMatchObject({ id: pager.id, state: "expiring", replacedBy: rotated.body.token.id });
    secrets.push(rotated.body.secret);
    const successor = rotated.body.token.id as number;
    const refused = expectProblem(await t.admin("POST", "/tokens/pager/revoke"), 409);
    expect(refused).toMatch(new RegExp(`^2 tokens are named "pager": ${pager.id} \\(rotated out, replaced by ${successor}, works until 20[^)]+\\), ${successor} \\(active\\); revoke one by id$`));
    expect(await scimStatus(pager.secret)).toBe(200);
    expect(await scimStatus(rotated.body.secret)).toBe(200);

    // By id, the rotated-out one goes and its successor stays; the name then picks out the successor alone.
    expect((await t.admin("POST", `/tokens/${pager.id}/revoke`)).body.token).toMatchObject({ id: pager.id, state: "revoked" });
    expect(await scimStatus(pager.secret)).toBe(401);
    expect(await scimStatus(rotated.body.secret)).toBe(200);
    expect((await t.admin("POST", "/tokens/pager/rotate", { overlapSeconds: 0 })).body.previous).toMatchObject({ id: successor, state: "revoked" });
  });

  it("refuses bad input with 400 and unknown ids with 404, changing nothing", async () => {
    const count = async () => ((await t.admin("GET", "/tokens")).body.tokens as unknown[]).length;
    const n = await count();
    expect(expectProblem(await t.admin("POST", "/tokens", { name: "x", scope: "root" }), 400)).toMatch(/body scope/);
    expect(expectProblem(await t.admin("POST", "/tokens", { name: "  ", scope: "scim" }), 400)).toMatch(/body name: must not be empty/);
    expect(expectProblem(await t.admin("POST", "/tokens", { name: "env:SCIM_BRIDGE_SCIM_TOKEN", scope: "scim" }), 400)).toMatch(/must not start with "env:"/);
    expect(expectProblem(await t.admin("POST", "/tokens", { name: "x", scope: "scim", secret: "mine" }), 400)).toMatch(/secret/);
    const some = await created("probe");
    secrets.push(some.secret);
    expectProblem(await t.admin("POST", `/tokens/${some.id}/rotate`, { overlapSeconds: 2_592_001 }), 400);
    expectProblem(await t.admin("POST", `/tokens/${some.id}/rotate`, { overlapSeconds: -1 }), 400);
    expectProblem(await t.admin("POST", `/tokens/${some.id}/rotate`, { overlapSeconds: "3600" }), 400);
    expectProblem(await t.admin("POST", `/tokens/${some.id}/revoke`, { now: true }), 400);
    expectProblem(await t.admin("POST", "/tokens/999999/rotate"), 404);
    expectProblem(await t.admin("POST", "/tokens/999999/revoke"), 404);
    expectProblem(await t.admin("POST", "/tokens/abc/revoke"), 404);
    expect(await count()).toBe(n + 1);
    expect(await scimStatus(some.secret)).toBe(200);
  });

  it("takes an admin token only: reviewer and SCIM tokens get 403, no token 401", async () => {
    const target = await created("target");
    secrets.push(target.secret);
    for (const [method, path, body] of [
      ["GET", "/tokens", undefined],
      ["POST", "/tokens", { name: "sneaky", scope: "admin" }],
      ["POST", `/tokens/${target.id}/rotate`, {}],
      ["POST", `/tokens/${target.id}/revoke`, undefined],
    ] as const) {
      expectProblem(await t.reviewer(method, path, body), 403);
      expectProblem(await t.asScim(method, path, body), 403);
      expectProblem(await t.request(null, method, path, body), 401);
    }
    expect(await scimStatus(target.secret)).toBe(200);
    expect(((await t.admin("GET", "/tokens")).body.tokens as any[]).some((x) => x.name === "sneaky")).toBe(false);
  });

  it("audits every change with the caller's token as actor and the request id, and keeps secrets out of the audit log, the logs and the database", async () => {
    const events = (await t.admin("GET", "/audit?resourceType=Token&limit=100")).body.events as any[];
    const byRequest = (id: string) => events.filter((e) => e.requestId === id).map((e) => [e.actor, e.action]);
    expect(byRequest("req-create-okta")).toEqual([[ADMIN_NAME, "token.create"]]);
    expect(byRequest("req-rotate-entra")).toEqual([
      [ADMIN_NAME, "token.rotate"],
      [ADMIN_NAME, "token.create"],
    ]);
    expect(byRequest("req-revoke-jumpcloud")).toEqual([[ADMIN_NAME, "token.revoke"]]);
    const rotate = events.find((e) => e.requestId === "req-rotate-entra" && e.action === "token.rotate");
    expect(rotate.after).toEqual({ successor: expect.any(Number), expiresAt: expect.stringMatching(/^20/), revokedAt: null, sessionsEnded: 0 });

    expect(secrets.length).toBeGreaterThanOrEqual(8);
    const exported = (await t.admin("GET", "/audit/export")).text;
    const logs = t.bridge.logLines.join("\n");
    const files = [readFileSync(t.bridge.dbFile), readFileSync(`${t.bridge.dbFile}-wal`)];
    for (const secret of [...secrets, SCIM_TOKEN]) {
      expect(exported).not.toContain(secret);
      expect(logs).not.toContain(secret);
      for (const f of files) expect(f.includes(secret)).toBe(false);
    }
  });
});

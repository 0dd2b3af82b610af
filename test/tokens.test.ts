import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/admin/web/session.js";
import { runCli } from "../src/cli.js";
import { systemClock } from "../src/clock.js";
import { openDatabase } from "../src/db/database.js";
import { SessionStore } from "../src/db/sessions.js";
import { TokenStore } from "../src/db/tokens.js";
import { AuditLog } from "../src/db/audit.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge, type TestBridge } from "./support/bridge.js";
import { expectScimError } from "./support/scim.js";

/** GET /Users with `token` as the bearer token, or with no Authorization header at all. */
function get(bridge: TestBridge, token: string | undefined) {
  return bridge.scim("GET", "/Users", undefined, { Authorization: token === undefined ? null : `Bearer ${token}` });
}

function cli(bridge: TestBridge, ...args: string[]): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = runCli(args, (l) => lines.push(l), { SCIM_BRIDGE_DB: bridge.dbFile });
  return { code, lines };
}

describe("tokens", () => {
  let bridge: TestBridge | undefined;
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });

  it("creates a SCIM and an admin token on first start, usable at once, stored only as hashes", async () => {
    bridge = await startBridge({ SCIM_BRIDGE_SCIM_TOKEN: "", SCIM_BRIDGE_ADMIN_TOKEN: "" });
    const first = bridge.running.firstStartTokens!;
    expect(first.scim).toMatch(/^scimbridge_[\w-]{43}$/);
    expect((await get(bridge, first.scim)).status).toBe(200);
    // Scopes are separate: the admin token cannot call SCIM.
    expectScimError(await get(bridge, first.admin), 403);
    const db = readFileSync(bridge.dbFile);
    const wal = readFileSync(`${bridge.dbFile}-wal`);
    for (const secret of [first.scim, first.admin]) {
      expect(db.includes(secret)).toBe(false);
      expect(wal.includes(secret)).toBe(false);
      expect(bridge.logLines.join("\n")).not.toContain(secret);
    }
  });

  it("keeps scopes apart: a SCIM token cannot call the admin API, an admin token can, and gets problem details when refused", async () => {
    bridge = await startBridge();
    const asScim = await fetch(`${bridge.running.url}/admin/api/jobs`, { headers: { Authorization: `Bearer ${SCIM_TOKEN}` } });
    expect(asScim.status).toBe(403);
    expect(asScim.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await asScim.json()).toMatchObject({ status: 403, title: "Forbidden" });
    const none = await fetch(`${bridge.running.url}/admin/api/jobs`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const asAdmin = await fetch(`${bridge.running.url}/admin/api/jobs`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(asAdmin.status).toBe(200);
  });

  it("does not create first-start tokens when tokens come from the environment", async () => {
    bridge = await startBridge();
    expect(bridge.running.firstStartTokens).toBeUndefined();
  });

  it("answers 401 with a SCIM body and WWW-Authenticate for a missing, unknown or revoked token", async () => {
    bridge = await startBridge();
    expectScimError(await get(bridge, undefined), 401);
    expectScimError(await get(bridge, "scimbridge_not-a-real-token"), 401);

    const created = cli(bridge, "token", "create", "--scope", "scim", "--name", "okta");
    expect(created.code).toBe(0);
    const token = created.lines[1]!;
    expect((await get(bridge, token)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines.join("\n")).toMatch(/\tscim\tokta\t.*last used 20/);
    expect(cli(bridge, "token", "revoke", "okta").code).toBe(0);
    expectScimError(await get(bridge, token), 401);
    expect(cli(bridge, "token", "list").lines.join("\n")).toMatch(/okta.*REVOKED/);
  });

  it("ends the web sessions signed in with a token when the token is revoked", async () => {
    bridge = await startBridge();
    const created = cli(bridge, "token", "create", "--scope", "admin", "--name", "ops");
    expect(created.code).toBe(0);
    const db = openDatabase(bridge.dbFile);
    const sessions = new SessionStore(db, systemClock);
    const ops = sessions.create("ops", "admin").id;
    const other = sessions.create("someone-else", "admin").id;
    const page = (id: string) => fetch(`${bridge!.running.url}/admin`, { headers: { Cookie: `${SESSION_COOKIE}=${id}` }, redirect: "manual" });
    expect((await page(ops)).status).toBe(200);

    const revoked = cli(bridge, "token", "revoke", "ops");
    expect(revoked).toEqual({ code: 0, lines: ['Revoked 1 token(s) matching "ops"; ended 1 web session(s) signed in with it.'] });
    expect(sessions.find(ops)).toBeUndefined();
    expect((await page(ops)).status).not.toBe(200);
    expect(sessions.find(other)).toBeDefined();
    db.close();
  });

  it("refuses a token create with a bad scope or no name", async () => {
    bridge = await startBridge();
    const bad = cli(bridge, "token", "create", "--scope", "root", "--name", "x");
    expect(bad.code).toBe(2);
    expect(bad.lines.join("\n")).toMatch(/--scope must be one of scim, admin, reviewer/);
    expect(cli(bridge, "token", "create", "--scope", "scim").code).toBe(2);
    const reserved = cli(bridge, "token", "create", "--scope", "scim", "--name", "env:SCIM_BRIDGE_SCIM_TOKEN");
    expect(reserved).toEqual({ code: 2, lines: ['--name must not start with "env:", which names tokens from the environment'] });
  });

  it("rotates with an overlap: the old token works until it expires, the new one at once, both under the same name and scope", async () => {
    bridge = await startBridge();
    const old = cli(bridge, "token", "create", "--scope", "scim", "--name", "okta").lines[1]!;
    expect((await get(bridge, old)).status).toBe(200);

    const rotated = cli(bridge, "token", "rotate", "okta", "--overlap", "2h");
    expect(rotated.code, rotated.lines.join("\n")).toBe(0);
    expect(rotated.lines[0]).toBe('Created scim token "okta" (id 2) to replace token 1. It is shown once; store it now:');
    const successor = rotated.lines[1]!;
    expect(successor).toMatch(/^scimbridge_[\w-]{43}$/);
    expect(rotated.lines[2]).toMatch(/^Token 1 keeps working until 20\d\d-.*Z; give the new token to its user before then\.$/);
    const until = Date.parse(/until (\S+);/.exec(rotated.lines[2]!)![1]!);
    expect(Math.abs(until - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000);

    expect((await get(bridge, old)).status).toBe(200);
    expect((await get(bridge, successor)).status).toBe(200);
    const listed = cli(bridge, "token", "list").lines;
    expect(listed[0]).toMatch(/^1\tscim\tokta\t.*\tlast used 20.*\texpires 20/);
    expect(listed[1]).toMatch(/^2\tscim\tokta\t.*\tlast used 20[^\t]*$/);

    // The overlap ends (moved into the past rather than waiting two hours).
    const db = openDatabase(bridge.dbFile);
    new TokenStore(db, systemClock).expire(1, new Date(Date.now() - 1000));
    expectScimError(await get(bridge, old), 401);
    expect((await get(bridge, successor)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines[0]).toMatch(/^1\tscim\tokta\t.*\tEXPIRED 20/);
    expect(bridge.logLines.map((l) => JSON.parse(l)).filter((l) => l.message === "authentication failed")).toEqual([
      expect.objectContaining({ reason: "expired", tokenName: "okta", path: "/scim/v2/Users" }),
    ]);

    const audit = new AuditLog(db, systemClock).find({ resourceType: "Token", order: "oldest", limit: 10 });
    expect(audit.map((e) => [e.actor, e.action, e.resourceId, e.after])).toEqual([
      ["cli", "token.create", "1", { name: "okta", scope: "scim" }],
      ["cli", "token.create", "2", { name: "okta", scope: "scim", rotatedFrom: 1 }],
      ["cli", "token.rotate", "1", { successor: 2, expiresAt: expect.stringMatching(/^20/), revokedAt: null, sessionsEnded: 0 }],
    ]);
    db.close();

    // An expired token cannot rotate again; by name, the active successor is the one that rotates.
    expect(cli(bridge, "token", "rotate", "1")).toEqual({ code: 1, lines: ["token 1 is expired"] });
    expect(cli(bridge, "token", "rotate", "okta", "--overlap", "30m").code).toBe(0);
    expect(cli(bridge, "token", "rotate", "2")).toEqual({ code: 1, lines: [expect.stringMatching(/^token 2 was rotated already and expires at 20.*; rotate its successor$/)] });
  });

  it("rotates with --overlap 0: the old token is revoked at once and its web sessions end", async () => {
    bridge = await startBridge();
    const old = cli(bridge, "token", "create", "--scope", "admin", "--name", "ops").lines[1]!;
    const db = openDatabase(bridge.dbFile);
    const sessions = new SessionStore(db, systemClock);
    const signedIn = sessions.create("ops", "admin").id;

    const rotated = cli(bridge, "token", "rotate", "ops", "--overlap", "0");
    expect(rotated.code).toBe(0);
    expect(rotated.lines[2]).toBe("Token 1 is revoked; ended 1 web session(s) signed in with it.");
    expect(sessions.find(signedIn)).toBeUndefined();
    const jobs = (token: string) => fetch(`${bridge!.running.url}/admin/api/jobs`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await jobs(old)).status).toBe(401);
    expect((await jobs(rotated.lines[1]!)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines[0]).toMatch(/^1\tadmin\tops\t.*\tREVOKED 20/);
    db.close();
  });

  it("refuses to rotate a token from the environment, an unknown or ambiguous name, or with a bad overlap", async () => {
    bridge = await startBridge();
    for (const name of ["env:SCIM_BRIDGE_SCIM_TOKEN", "env:SCIM_BRIDGE_ADMIN_TOKEN"]) {
      const variable = name.slice(4);
      const message = `"${name}" comes from the environment and is not stored: set a new value for ${variable} (or remove it) and restart the bridge`;
      expect(cli(bridge, "token", "rotate", name)).toEqual({ code: 1, lines: [message] });
      expect(cli(bridge, "token", "revoke", name)).toEqual({ code: 1, lines: [message] });
    }
    expect(cli(bridge, "token", "rotate", "nobody")).toEqual({ code: 1, lines: ['no active token is named "nobody"'] });
    expect(cli(bridge, "token", "rotate", "42")).toEqual({ code: 1, lines: ["token 42 not found"] });
    cli(bridge, "token", "create", "--scope", "scim", "--name", "twin");
    cli(bridge, "token", "create", "--scope", "scim", "--name", "twin");
    expect(cli(bridge, "token", "rotate", "twin")).toEqual({ code: 1, lines: ['2 active tokens are named "twin" (ids 1, 2); name one by id'] });
    for (const bad of ["24", "1w", "1.5h", "31d"]) {
      expect(cli(bridge, "token", "rotate", "1", "--overlap", bad).code, bad).toBe(2);
    }
    expect(cli(bridge, "token", "rotate", "1", "--overlap", "31d").lines).toEqual(["--overlap must be at most 30d"]);
    // Nothing was rotated by any of it.
    expect(cli(bridge, "token", "list").lines).toHaveLength(2);
  });

  it("counts failed authentications by reason and logs each with its reason, never the presented token", async () => {
    bridge = await startBridge();
    const revoked = cli(bridge, "token", "create", "--scope", "scim", "--name", "old-okta").lines[1]!;
    cli(bridge, "token", "revoke", "old-okta");
    const expired = cli(bridge, "token", "create", "--scope", "scim", "--name", "entra").lines[1]!;
    cli(bridge, "token", "rotate", "entra", "--overlap", "1h");
    const db = openDatabase(bridge.dbFile);
    new TokenStore(db, systemClock).expire(2, new Date(Date.now() - 1000)); // entra, rotated out
    db.close();
    const reviewer = cli(bridge, "token", "create", "--scope", "reviewer", "--name", "rita").lines[1]!;
    const unknown = "scimbridge_AAAAthisTokenWasNeverIssuedByTheBridge0000000";
    const admin = (auth: string) => fetch(`${bridge!.running.url}/admin/api/jobs`, { headers: { Authorization: auth } });

    expectScimError(await get(bridge, undefined), 401); // missing
    expectScimError(await bridge.scim("GET", "/Users", undefined, { Authorization: `Basic ${unknown}` }), 401); // malformed
    expectScimError(await bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${unknown} extra` }), 401); // malformed
    expectScimError(await get(bridge, unknown), 401);
    expect((await admin(`Bearer ${unknown}`)).status).toBe(401); // unknown, on the admin API
    expectScimError(await get(bridge, revoked), 401);
    expectScimError(await get(bridge, expired), 401);
    expectScimError(await get(bridge, ADMIN_TOKEN), 403); // wrong_scope at SCIM's door
    expect((await admin(`Bearer ${reviewer}`)).status).toBe(403); // wrong_scope on an admin-only route
    expect((await get(bridge, SCIM_TOKEN)).status).toBe(200);

    expect(bridge.running.authFailures.snapshot()).toEqual({ missing: 1, malformed: 2, unknown: 2, revoked: 1, expired: 1, wrong_scope: 2 });
    const failures = bridge.logLines.map((l) => JSON.parse(l)).filter((l) => l.message === "authentication failed");
    expect(failures.map((l) => [l.level, l.reason, l.tokenName])).toEqual([
      ["warn", "missing", undefined],
      ["warn", "malformed", undefined],
      ["warn", "malformed", undefined],
      ["warn", "unknown", undefined],
      ["warn", "unknown", undefined],
      ["warn", "revoked", "old-okta"],
      ["warn", "expired", "entra"],
      ["warn", "wrong_scope", "env:SCIM_BRIDGE_ADMIN_TOKEN"],
      ["warn", "wrong_scope", "rita"],
    ]);
    const logged = bridge.logLines.join("\n");
    for (const presented of [unknown, revoked, expired, reviewer, ADMIN_TOKEN, SCIM_TOKEN]) {
      const secret = presented.startsWith("scimbridge_") ? presented.slice("scimbridge_".length) : presented;
      // Not the token, nor any 8 characters of its secret part.
      for (let i = 0; i + 8 <= secret.length; i++) expect(logged).not.toContain(secret.slice(i, i + 8));
    }
  });
});

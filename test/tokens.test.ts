import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { systemClock } from "../src/clock.js";
import { openDatabase } from "../src/db/database.js";
import { TokenStore } from "../src/db/tokens.js";
import { AuditLog } from "../src/db/audit.js";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge, type TestBridge } from "./support/bridge.js";
import { expectScimError } from "./support/scim.js";
import { reviewPageStatus, signInOverHttp } from "./support/web-session.js";

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

  it("ends the web sessions signed in with a token when the token is revoked, and only those", async () => {
    bridge = await startBridge();
    const ops = cli(bridge, "token", "create", "--scope", "admin", "--name", "ops").lines[1]!;
    const rita = cli(bridge, "token", "create", "--scope", "reviewer", "--name", "rita").lines[1]!;
    const origin = bridge.running.url;
    const opsSession = await signInOverHttp(origin, ops);
    const ritaSession = await signInOverHttp(origin, rita);
    expect(await reviewPageStatus(origin, opsSession)).toBe(200);

    const revoked = cli(bridge, "token", "revoke", "ops");
    expect(revoked).toEqual({ code: 0, lines: ['Revoked token 1 ("ops"); ended 1 web session(s) signed in with it.'] });
    expect(await reviewPageStatus(origin, opsSession)).toBe(303);
    expect(await reviewPageStatus(origin, ritaSession)).toBe(200);
    expect(cli(bridge, "token", "revoke", "ops")).toEqual({ code: 1, lines: ['no working token is named "ops"'] });
    expect(cli(bridge, "token", "revoke", "1")).toEqual({ code: 1, lines: [expect.stringMatching(/^token 1 was revoked at 20/)] });
  });

  it("ends a web session opened with an environment token once the variable changes, across a restart, and keeps it while the value stays", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-env-session-"));
    bridge = await startBridge({}, { dir });
    const session = await signInOverHttp(bridge.running.url, ADMIN_TOKEN);
    await bridge.close();
    bridge = await startBridge({}, { dir });
    expect(await reviewPageStatus(bridge.running.url, session)).toBe(200);
    await bridge.close();

    bridge = await startBridge({ SCIM_BRIDGE_ADMIN_TOKEN: "a-new-admin-token-after-a-leak-0123456789" }, { dir });
    const after = await fetch(`${bridge.running.url}/admin`, { headers: { Cookie: `scim_bridge_session=${session}` }, redirect: "manual" });
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toMatch(/^\/admin\/sign-in/);
    // Gone for good, not just refused once: putting the old value back does not bring it back.
    await bridge.close();
    bridge = await startBridge({}, { dir });
    expect(await reviewPageStatus(bridge.running.url, session)).toBe(303);
    // No form of the token is stored: not the secret, not its SHA-256.
    const rows = JSON.stringify(bridge.running.db.prepare("SELECT * FROM sessions").all());
    expect(rows).not.toContain(ADMIN_TOKEN);
    expect(rows).not.toContain(createHash("sha256").update(ADMIN_TOKEN).digest("hex"));
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
    expect(listed[0]).toBe("ID\tSCOPE\tNAME\tCREATED\tLAST USED\tEXPIRY OR REVOCATION\tREPLACED BY");
    expect(listed[1]).toMatch(/^1\tscim\tokta\t.*\tlast used 20.*\texpires 20/);
    expect(listed[2]).toMatch(/^2\tscim\tokta\t.*\tlast used 20[^\t]*$/);

    // The overlap ends (moved into the past rather than waiting two hours).
    const db = openDatabase(bridge.dbFile);
    new TokenStore(db, systemClock).expire(1, new Date(Date.now() - 1000));
    expectScimError(await get(bridge, old), 401);
    expect((await get(bridge, successor)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines[1]).toMatch(/^1\tscim\tokta\t.*\tEXPIRED 20/);
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
    const signedIn = await signInOverHttp(bridge.running.url, old);

    const rotated = cli(bridge, "token", "rotate", "ops", "--overlap", "0");
    expect(rotated.code).toBe(0);
    expect(rotated.lines[2]).toBe("Token 1 is revoked; ended 1 web session(s) signed in with it.");
    expect(await reviewPageStatus(bridge.running.url, signedIn)).toBe(303);
    const jobs = (token: string) => fetch(`${bridge!.running.url}/admin/api/jobs`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await jobs(old)).status).toBe(401);
    expect((await jobs(rotated.lines[1]!)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines[1]).toMatch(/^1\tadmin\tops\t.*\tREVOKED 20[^\t]*\treplaced by 2$/);
  });

  it("keeps a session open with an overlap while the rotated-out token works, and ends it when that token expires", async () => {
    bridge = await startBridge();
    const old = cli(bridge, "token", "create", "--scope", "admin", "--name", "ops").lines[1]!;
    const signedIn = await signInOverHttp(bridge.running.url, old);
    expect(cli(bridge, "token", "rotate", "ops", "--overlap", "1h").code).toBe(0);
    expect(await reviewPageStatus(bridge.running.url, signedIn)).toBe(200);
    new TokenStore(bridge.running.db, systemClock).expire(1, new Date(Date.now() - 1000));
    expect(await reviewPageStatus(bridge.running.url, signedIn)).toBe(303);
  });

  it("refuses a second active token of a name and the bridge's own actor names, and audits tokens as token:<name>", async () => {
    bridge = await startBridge();
    const first = cli(bridge, "token", "create", "--scope", "admin", "--name", "okta");
    expect(first.code).toBe(0);
    expect(cli(bridge, "token", "create", "--scope", "scim", "--name", "okta")).toEqual({
      code: 1,
      lines: ['token 1 is already named "okta"; rotate it for a new secret, revoke it first, or choose another name'],
    });
    for (const name of ["worker", "cli", "System", "reconciler", "startup"]) {
      const refused = cli(bridge, "token", "create", "--scope", "admin", "--name", name);
      expect(refused.code, name).toBe(2);
      expect(refused.lines[0]).toMatch(/^--name must not be one of the names the bridge records for itself \(worker, cli, system, reconciler, startup/);
    }
    expect(cli(bridge, "token", "create", "--scope", "admin", "--name", "7").lines).toEqual(["--name must not be a number, which names a token by id"]);
    // What a token does is recorded as token:<name>, never as a bare word the bridge uses for itself.
    const made = await fetch(`${bridge.running.url}/admin/api/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${first.lines[1]!}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "entra", scope: "scim" }),
    });
    expect(made.status).toBe(201);
    const entra = ((await made.json()) as { secret: string }).secret;
    expect((await bridge.scim("POST", "/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "ada@example.com" }, { Authorization: `Bearer ${entra}` })).status).toBe(201);
    const actors = bridge.running.db.prepare("SELECT DISTINCT actor FROM audit_events WHERE action IN ('token.create', 'user.create') ORDER BY actor").pluck().all();
    expect(actors).toEqual(["cli", "token:entra", "token:okta"]);
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
    expect(cli(bridge, "token", "rotate", "twin", "--overlap", "1h").code).toBe(0);
    // The rotated-out token and its successor share the name: revoking by it would have to guess.
    expect(cli(bridge, "token", "revoke", "twin")).toEqual({
      code: 1,
      lines: [expect.stringMatching(/^2 tokens are named "twin": 1 \(rotated out, replaced by 2, works until 20[^)]+\), 2 \(active\); revoke one by id$/)],
    });
    for (const bad of ["24", "1w", "1.5h", "31d"]) {
      expect(cli(bridge, "token", "rotate", "1", "--overlap", bad).code, bad).toBe(2);
    }
    expect(cli(bridge, "token", "rotate", "1", "--overlap", "31d").lines).toEqual(["--overlap must be at most 30d"]);
    // Nothing was rotated or revoked by any of it; by id, the rotated-out token goes and its successor stays.
    expect(cli(bridge, "token", "list").lines).toHaveLength(3);
    expect(cli(bridge, "token", "revoke", "1")).toEqual({ code: 0, lines: ['Revoked token 1 ("twin").'] });
    expect(cli(bridge, "token", "list").lines[2]).toMatch(/^2\tscim\ttwin\t[^R]*$/);
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

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../src/admin/web/session.js";
import { runCli } from "../src/cli.js";
import { systemClock } from "../src/clock.js";
import { openDatabase } from "../src/db/database.js";
import { SessionStore } from "../src/db/sessions.js";
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
  });
});

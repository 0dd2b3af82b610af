import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { startBridge, type TestBridge } from "./support/bridge.js";

async function get(bridge: TestBridge, token: string | undefined) {
  const res = await fetch(`${bridge.baseUrl}/Users`, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, auth: res.headers.get("www-authenticate") };
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
    const admin = await get(bridge, first.admin);
    expect(admin.status).toBe(403);
    expect(admin.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "403" });
    const db = readFileSync(bridge.dbFile);
    const wal = readFileSync(`${bridge.dbFile}-wal`);
    for (const secret of [first.scim, first.admin]) {
      expect(db.includes(secret)).toBe(false);
      expect(wal.includes(secret)).toBe(false);
      expect(bridge.logLines.join("\n")).not.toContain(secret);
    }
  });

  it("does not create first-start tokens when tokens come from the environment", async () => {
    bridge = await startBridge();
    expect(bridge.running.firstStartTokens).toBeUndefined();
  });

  it("answers 401 with a SCIM body and WWW-Authenticate for a missing, unknown or revoked token", async () => {
    bridge = await startBridge();
    const none = await get(bridge, undefined);
    expect(none.status).toBe(401);
    expect(none.auth).toMatch(/^Bearer/);
    expect(none.body).toMatchObject({ schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "401" });
    expect((await get(bridge, "scimbridge_not-a-real-token")).status).toBe(401);

    const created = cli(bridge, "token", "create", "--scope", "scim", "--name", "okta");
    expect(created.code).toBe(0);
    const token = created.lines[1]!;
    expect((await get(bridge, token)).status).toBe(200);
    expect(cli(bridge, "token", "list").lines.join("\n")).toMatch(/\tscim\tokta\t.*last used 20/);
    expect(cli(bridge, "token", "revoke", "okta").code).toBe(0);
    expect((await get(bridge, token)).status).toBe(401);
    expect(cli(bridge, "token", "list").lines.join("\n")).toMatch(/okta.*REVOKED/);
  });

  it("refuses a token create with a bad scope or no name", async () => {
    bridge = await startBridge();
    const bad = cli(bridge, "token", "create", "--scope", "root", "--name", "x");
    expect(bad.code).toBe(2);
    expect(bad.lines.join("\n")).toMatch(/--scope must be one of scim, admin, reviewer/);
    expect(cli(bridge, "token", "create", "--scope", "scim").code).toBe(2);
  });
});

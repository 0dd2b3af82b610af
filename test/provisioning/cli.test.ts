/**
 * `scim-bridge plan` (a dry run for everyone or one user) and `scim-bridge reconcile`, against a
 * bridge whose HaloPSA app is in dry-run mode, so planned actions stay pending.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli.js";
import { startBridge, type TestBridge } from "../support/bridge.js";
import { create, openReadOnly, userBody } from "../support/scim.js";

const CONFIG = `
apps:
  - name: halopsa
    type: halopsa
    mode: dry-run
    roles:
      - { name: admin, haloRoles: [Administrator] }
      - { name: agent, haloRoles: [Agent], teams: [1st Line] }
rules:
  - { group: HaloPSA Admins, app: halopsa, role: admin }
  - { group: HaloPSA Agents, app: halopsa, role: agent }
provisioning:
  reconcileIntervalMinutes: 0
`;

describe("provisioning CLI", () => {
  let bridge: TestBridge;
  let env: Record<string, string>;
  let ada: string;
  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-cli-")), "bridge.yaml");
    writeFileSync(file, CONFIG);
    bridge = await startBridge({ SCIM_BRIDGE_CONFIG: file });
    env = { SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_DB: bridge.dbFile };
    ada = (await create(bridge, "Users", userBody("ada@example.com", { name: { givenName: "Ada", familyName: "Lovelace" } }))).id;
    await create(bridge, "Users", userBody("bystander@example.com"));
    await create(bridge, "Groups", { displayName: "HaloPSA Agents", members: [{ value: ada }] });
  });
  afterAll(async () => bridge.close());

  function cli(...args: string[]): { code: number; out: string } {
    const lines: string[] = [];
    const code = runCli(args, (l) => lines.push(l), env);
    return { code, out: lines.join("\n") };
  }

  it("prints what would happen for everyone, with the reason, and changes nothing", () => {
    const before = openReadOnly(bridge).prepare("SELECT count(*) AS n FROM app_accounts").get();
    const { code, out } = cli("plan");
    expect(code).toBe(0);
    expect(out).toContain(`ada@example.com [${ada}]`);
    expect(out).toContain("create in halopsa as agent (ada@example.com) — agent because member of 'HaloPSA Agents' (rules[1])");
    expect(out).toMatch(/1 action\(s\) for 1 user\(s\) \(create 1\); 1 user\(s\) up to date\. Nothing was changed\./);
    expect(openReadOnly(bridge).prepare("SELECT count(*) AS n FROM app_accounts").get()).toEqual(before);
  });

  it("plans one user, and speaks JSON on request", () => {
    const json = JSON.parse(cli("plan", "--user", ada, "--json").out) as { userId: string; actions: { kind: string; role: string }[] }[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ userId: ada, actions: [{ kind: "create", role: "agent" }] });
  });

  it("queues a provisioning pass for every user on reconcile", () => {
    const { code, out } = cli("reconcile");
    expect(code).toBe(0);
    expect(out).toBe("Queued a provisioning pass for 2 user(s); the running bridge's worker applies it.");
  });

  it("plans one user named by id, userName or email in any case, and refuses with exit 1 a user that does not exist", async () => {
    const grace = (await create(bridge, "Users", userBody("GHopper", { emails: [{ value: "Grace.Hopper@Example.com", type: "work", primary: true }] }))).id;
    // Two people share an alias address: it names neither of them.
    for (const userName of ["twin-a", "twin-b"]) await create(bridge, "Users", userBody(userName, { emails: [{ value: "desk@example.com", type: "other" }] }));
    const planned = (...ref: string[]) => (JSON.parse(cli("plan", "--user", ...ref, "--json").out) as { userId: string }[]).map((p) => p.userId);
    expect(planned(ada)).toEqual([ada]);
    expect(planned("ADA@example.com")).toEqual([ada]);
    expect(planned("ghopper")).toEqual([grace]);
    expect(planned("grace.hopper@example.COM")).toEqual([grace]);
    expect(cli("plan", "--user", "ghopper")).toEqual({ code: 0, out: "Nothing to do: 1 user(s) up to date." });

    for (const nobody of ["00000000-0000-4000-8000-000000000000", "nobody@example.com"]) {
      expect(cli("plan", "--user", nobody)).toEqual({ code: 1, out: `No user has the id, userName or email "${nobody}".` });
    }
    const shared = cli("plan", "--user", "desk@example.com");
    expect(shared.code).toBe(1);
    expect(shared.out).toMatch(/^2 users have the email "desk@example.com": twin-a \[[\w-]+\], twin-b \[[\w-]+\]; name one by id or userName\.$/);
  });

  it("records the dry-run app's planned actions in the audit log instead of calling HaloPSA", async () => {
    const db = openReadOnly(bridge);
    const deadline = Date.now() + 5000;
    let rows: { action: string; after: string }[] = [];
    while (Date.now() < deadline && rows.length === 0) {
      rows = db.prepare("SELECT action, after FROM audit_events WHERE action = 'provision.dry-run' AND resource_id LIKE ?").all(`${ada}/%`) as typeof rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.parse(rows[0]!.after)).toMatchObject({ summary: "create in halopsa as agent (ada@example.com)" });
    expect(bridge.running.haloPsaSimulator!.requestCount("POST", "/api/Agent")).toBe(0);
  });
});

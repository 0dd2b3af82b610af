/**
 * Rules checked against the directory, end to end over HTTP: a restart with a misspelled rule group
 * says so in the banner and the log with the closest group name, and the admin API reports it; a
 * group the IdP renames away from a rule is reported by the admin API and warned about once.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { banner } from "../../src/main.js";
import { ADMIN_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { exchange } from "../support/io.js";
import { waitFor } from "../support/provisioning.js";
import { create, patch, userBody } from "../support/scim.js";

const config = (adminsGroup: string) => `
apps:
  - { name: huntress, type: manual, template: huntress }
rules:
  - { group: "${adminsGroup}", app: huntress, role: admin }
  - { group: Huntress Users, app: huntress, role: standard }
provisioning: { reconcileIntervalMinutes: 0 }
`;

const rulesOf = async (b: TestBridge) => {
  const r = await exchange(`${b.running.url}/admin/api/rules`, "GET", { Authorization: `Bearer ${ADMIN_TOKEN}` }, undefined, "application/json");
  expect(r.status, r.text).toBe(200);
  return r.body;
};
const logged = (b: TestBridge, level: string) =>
  b.logLines.map((l) => JSON.parse(l) as { level: string; message: string }).filter((l) => l.level === level).map((l) => l.message);

describe("rules checked against the directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-rulecheck-"));
  const file = join(dir, "bridge.yaml");
  const env = { SCIM_BRIDGE_CONFIG: file };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("says once that there are no groups yet on a new bridge, then reports a misspelled rule group after a restart, with the closest name", async () => {
    writeFileSync(file, config("Huntress Admins"));
    let bridge = await startBridge(env, { dir });
    // A brand-new directory: one line of information, not a warning per rule.
    expect(logged(bridge, "info")).toContain("rules: no groups yet: rules will be checked when the IdP pushes groups");
    expect(logged(bridge, "warn").filter((m) => m.includes("matches no group"))).toEqual([]);
    expect(banner(bridge.running)).toContain("  Rules: no groups yet: rules will be checked when the IdP pushes groups\n");
    expect(await rulesOf(bridge)).toMatchObject({ state: "no-groups-yet", groupsInDirectory: 0 });
    const ada = await create(bridge, "Users", userBody("ada@example.com"));
    await create(bridge, "Groups", { displayName: "Huntress Admins", members: [{ value: ada.id }] });
    await create(bridge, "Groups", { displayName: "Huntress Users" });
    expect(await rulesOf(bridge)).toMatchObject({ state: "ok", groupsInDirectory: 2 });
    await bridge.running.close();

    writeFileSync(file, config("Huntress Admin"));
    bridge = await startBridge(env, { dir });
    try {
      const line = "rules[0]: group 'Huntress Admin' matches no group in the directory; did you mean 'Huntress Admins'?";
      expect(banner(bridge.running)).toContain(`  WARNING ${line}\n`);
      // The removals the typo would cause are held for approval (provisioning/approvals.test.ts), and say so too.
      expect(logged(bridge, "warn")).toEqual([
        `${line} (nobody gets huntress admin through this rule until it does)`,
        "the apps or rules changed in a way that removes or downgrades access: those actions wait for approval",
      ]);
      expect(await rulesOf(bridge)).toEqual({
        state: "unmatched",
        summary: "1 rule(s) match no group in the directory: nobody gets access through them",
        groupsInDirectory: 2,
        rules: [
          { index: 0, group: { displayName: "Huntress Admin" }, app: "huntress", role: "admin", matchedGroups: 0, problem: { kind: "no-group", suggestion: "Huntress Admins", message: line } },
          { index: 1, group: { displayName: "Huntress Users" }, app: "huntress", role: "standard", matchedGroups: 1, problem: null },
        ],
      });
    } finally {
      await bridge.running.close();
    }
  });

  it("reports a rule left unmatched when the IdP renames its group, with one warning however many requests follow", async () => {
    const own = join(mkdtempSync(join(tmpdir(), "scim-bridge-rulecheck-")), "bridge.yaml");
    writeFileSync(own, config("Huntress Admins"));
    const b = await startBridge({ SCIM_BRIDGE_CONFIG: own });
    try {
      const bo = await create(b, "Users", userBody("bo@example.com"));
      const admins = await create(b, "Groups", { displayName: "Huntress Admins", members: [{ value: bo.id }] });
      // Pushed one group per request, as Okta and Entra do: 'Huntress Users' matched nothing for a
      // moment, which is no mistake; the log waits for the IdP to go quiet (2 s) before it checks.
      await create(b, "Groups", { displayName: "Huntress Users" });
      expect((await rulesOf(b)).state).toBe("ok");
      const warnings = () => logged(b, "warn").filter((m) => m.includes("matches no group"));
      await new Promise((r) => setTimeout(r, 2500));
      expect(warnings()).toEqual([]);

      const renamed = await b.scim("PATCH", `/Groups/${admins.id}`, patch({ op: "replace", path: "displayName", value: "Huntress Account Admins" }));
      expect(renamed.status, renamed.text).toBe(204);
      // More changes that leave the result as it is: a membership change, another group, re-reads.
      await b.scim("PATCH", `/Groups/${admins.id}`, patch({ op: "remove", path: "members", value: [{ value: bo.id }] }));
      await create(b, "Groups", { displayName: "Finance" });
      const report = await rulesOf(b);
      await rulesOf(b);

      expect(report.state).toBe("unmatched");
      expect(report.rules[0]).toEqual({
        index: 0,
        group: { displayName: "Huntress Admins" },
        app: "huntress",
        role: "admin",
        matchedGroups: 0,
        problem: { kind: "no-group", suggestion: null, message: "rules[0]: group 'Huntress Admins' matches no group in the directory" },
      });
      await waitFor(() => warnings().length > 0, 10_000, "the warning");
      await create(b, "Groups", { displayName: "Sales" });
      await new Promise((r) => setTimeout(r, 2500));
      expect(warnings()).toEqual(["rules[0]: group 'Huntress Admins' matches no group in the directory (nobody gets huntress admin through this rule until it does)"]);

      // Renamed back: the rule matches again, said once as information.
      await b.scim("PATCH", `/Groups/${admins.id}`, patch({ op: "replace", path: "displayName", value: "Huntress Admins" }));
      expect((await rulesOf(b)).state).toBe("ok");
      await waitFor(() => logged(b, "info").includes("rules[0]: group 'Huntress Admins' matches a group in the directory again"), 10_000, "the recovery line");
      expect(warnings()).toHaveLength(1);
    } finally {
      await b.close();
    }
  });
});

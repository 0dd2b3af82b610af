/**
 * Changing the rules in config and restarting re-plans everyone, once; an unchanged restart does not.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startBridge } from "../support/bridge.js";
import { create, userBody } from "../support/scim.js";

const config = (mappedGroup: string) => `
apps:
  - name: halopsa
    type: halopsa
    roles: [{ name: agent, haloRoles: [Agent], teams: [1st Line] }]
rules:
  - { group: "${mappedGroup}", app: halopsa, role: agent }
provisioning: { reconcileIntervalMinutes: 0 }
halopsa: { rateLimit: null }
`;

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("rules change on restart", () => {
  let sim: HaloPsaSimulator;
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-rules-"));
  const file = join(dir, "bridge.yaml");
  const env = () => ({ SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_DB: join(dir, "bridge.db"), HALOPSA_URL: sim.url, HALOPSA_CLIENT_ID: sim.clientId, HALOPSA_CLIENT_SECRET: sim.clientSecret });
  const agentEmails = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent).map((a) => a.email);
  beforeAll(async () => {
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });
  afterAll(async () => sim.close());

  it("provisions users that new rules grant, with no SCIM change, and only when the rules changed", async () => {
    writeFileSync(file, config("HaloPSA Agents"));
    let bridge = await startBridge(env());
    const grace = await create(bridge, "Users", userBody("grace@example.com"));
    await create(bridge, "Groups", { displayName: "Support", members: [{ value: grace.id }] });
    await bridge.running.worker.drain();
    expect(agentEmails()).toEqual([]);
    await bridge.running.close();

    writeFileSync(file, config("Support"));
    bridge = await startBridge(env());
    await waitFor(() => agentEmails().includes("grace@example.com"));
    expect(agentEmails()).toEqual(["grace@example.com"]);
    await bridge.running.close();

    bridge = await startBridge(env());
    const db = new Database(join(dir, "bridge.db"), { readonly: true });
    const changes = db.prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'config.rules-changed'").get() as { n: number };
    // First start (no fingerprint yet) and the change: two; the unchanged restart adds none.
    expect(changes.n).toBe(2);
    expect(db.prepare("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: 0 });
    db.close();
    await bridge.close();
  });
});

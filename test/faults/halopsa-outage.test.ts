/**
 * Issue 5, Faults: HaloPSA down for a period. HaloPSA sits behind a TCP proxy the test can switch
 * off, so the bridge first meets refused connections, then HaloPSA answers 503 to everything, then
 * it is back. Users keep arriving through SCIM the whole time. SCIM must keep answering 2xx and
 * /readyz 200 (HaloPSA's health is not the bridge's readiness), and once HaloPSA is back every
 * wanted agent exists exactly once, with no dead letter: the outage is shorter than the retry budget
 * (the HaloPSA client's own retries, then the job queue's, time-compressed by the config below).
 */
import { createServer, type Server, type Socket, connect } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startBridge } from "../support/bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { CORE_USER, patch } from "../support/scim.js";

const OUTAGE_MS = 3_000;

/** A TCP proxy to the simulator on a fixed port; `down()` refuses connections and cuts open ones. */
class SwitchableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => (s === client ? upstream : client).destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe("HaloPSA outage", () => {
  it("keeps SCIM and /readyz answering through refused connections and 503s, then provisions every agent once", async () => {
    const sim: HaloPsaSimulator = await startHaloPsaSimulator({ rateLimit: null });
    const proxy = new SwitchableProxy(Number(new URL(sim.url).port));
    await proxy.up();
    const halo = { url: `http://127.0.0.1:${proxy.port}`, clientId: sim.clientId, clientSecret: sim.clientSecret };
    // Job retries every 0.2 s growing to 1 s, 10 attempts, each with the client's own 4 retries
    // (0.5 s doubling): far more than the outage, so nothing may dead-letter.
    const config = rigConfig(halo, { provisioning: { maxAttempts: 10, backoffBaseSeconds: 0.2, maxBackoffSeconds: 1 }, timeoutSeconds: 2 });
    const bridge = await startBridge({}, { configFile: config });
    onTestFinished(async () => {
      sim.faults.reset();
      await bridge.close();
      await proxy.down();
      await sim.close();
    });

    const group = await bridge.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: AGENTS });
    expect(group.status, group.text).toBe(201);
    const emails: string[] = [];
    const scimStatuses: number[] = [];
    const addUser = async (): Promise<void> => {
      const email = `outage.${emails.length}@example.com`;
      emails.push(email);
      const u = await bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, name: { givenName: "Out", familyName: "Age" }, emails: [{ primary: true, value: email }] });
      scimStatuses.push(u.status);
      const joined = await bridge.scim("PATCH", `/Groups/${group.body.id}`, patch({ op: "add", path: "members", value: [{ value: u.body.id }] }));
      scimStatuses.push(joined.status);
    };
    const people = () => [...sim.state.agents.values()].filter((a) => !a.isapiagent);

    // Readiness is sampled the whole time.
    const ready: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        ready.push((await fetch(`${bridge.running.url}/readyz`)).status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Users keep arriving through the outage, one every 200 ms.
    const addUsersFor = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await addUser();
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    // Before: HaloPSA works, the bridge has a token and warm caches.
    await addUser();
    await waitFor(() => people().length === 1, 10_000, "the first agent");

    // Phase 1: connections refused.
    await proxy.down();
    await addUsersFor(OUTAGE_MS);
    expect(people()).toHaveLength(1);

    // Phase 2: HaloPSA is reachable again but answers 503 to everything, token requests included.
    sim.faults.failNext(1_000_000, { status: 503 });
    await proxy.up();
    await addUsersFor(OUTAGE_MS);
    expect(people()).toHaveLength(1);
    expect(sim.statusCounts.get(503) ?? 0).toBeGreaterThan(0);

    // HaloPSA is back.
    sim.faults.reset();
    await addUser();
    await waitFor(() => (bridge.running.db.prepare("SELECT count(*) FROM jobs").pluck().get() as number) === 0, 30_000, "an empty job queue after the outage");
    sampling = false;
    await sampler;

    expect(scimStatuses.every((s) => s === 201 || s === 204), JSON.stringify(scimStatuses)).toBe(true);
    expect(ready.length).toBeGreaterThan(20);
    expect(ready.every((s) => s === 200), JSON.stringify(ready)).toBe(true);
    expect(people().map((a) => a.email).sort()).toEqual([...emails].sort());
    expect(people().every((a) => !a.isdisabled)).toBe(true);
    const accounts = bridge.running.db.prepare("SELECT state, count(*) AS n FROM app_accounts GROUP BY state").all();
    expect(accounts).toEqual([{ state: "active", n: emails.length }]);
    // Provisioning really failed during the outage and was retried; the empty queue above also
    // means no dead letter (a dead job stays in the table).
    expect(bridge.logLines.some((l) => l.includes("will be retried"))).toBe(true);
    expect(bridge.logLines.some((l) => l.includes('"message":"provisioning action failed"'))).toBe(true);
  }, 60_000);
});

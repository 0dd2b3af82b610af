/**
 * The ticket outbox across a crash, and its place in the HaloPSA rate budget, with the real
 * composition (config file, SQLite file, the one HaloPSA client) against the simulator over
 * loopback HTTP. docs/manual-tasks.md, "Tasks as HaloPSA tickets".
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { connect, openStores, provisioningOf, ticketSyncOf } from "../../src/compose.js";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/database.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { createLogger } from "../../src/log.js";
import { SecretScrubber } from "../../src/domain/secret-scrubber.js";
import { waitFor } from "../support/provisioning.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function configFor(sim: HaloPsaSimulator, dir: string, rateLimit: { requests: number; windowSeconds: number } | null = null) {
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      database: join(dir, "bridge.db"),
      apps: [
        { name: "halopsa", type: "halopsa", roles: [{ name: "agent", haloRoles: ["Agent"] }] },
        { name: "huntress", type: "manual", template: "huntress", tickets: { halopsa: { ticketTypeId: 3, team: "1st Line", closedStatusIds: [21] } } },
      ],
      rules: [],
      provisioning: { backoffBaseSeconds: 0.01, maxBackoffSeconds: 0.05, reconcileIntervalMinutes: 0 },
      halopsa: { url: sim.url, clientId: sim.clientId, clientSecret: sim.clientSecret, rateLimit, timeoutSeconds: 0.5 },
    }),
  );
  return loadConfig({ SCIM_BRIDGE_CONFIG: file });
}

/** One bridge's worth of ticket sync over the database file: what a process builds at start. */
async function bridgeParts(config: ReturnType<typeof loadConfig>) {
  const db = openDatabase(config.database);
  const log = createLogger("error");
  const scrubber = new SecretScrubber();
  const stores = openStores(config, db, systemClock);
  const connections = await connect(config, log, { exchanged: () => {}, rateLimitWaited: () => {} }, { simulator: false, scrubber });
  const { review } = provisioningOf(config, stores, connections.connectors, log, {}, scrubber);
  const sync = ticketSyncOf(config, stores, connections.ticketApis, review, log, scrubber)!;
  return { db, stores, connections, sync };
}

function raiseTask(parts: Awaited<ReturnType<typeof bridgeParts>>, email: string, state: "open" | "blocked" = "open") {
  const profile = { userName: email, email, givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace" };
  return parts.db
    .transaction(() =>
      parts.stores.tasks.insert({
        app: "huntress",
        userId: "user-1",
        action: "invite",
        role: "standard",
        title: `Invite ${email} to Huntress`,
        steps: ["Open Settings › Users"],
        profile,
        state,
        reason: state === "blocked" ? "the last Account Admin" : null,
        dueAt: new Date(Date.now() + 86_400_000).toISOString(),
        requestId: null,
      }),
    )
    .immediate();
}

describe("ticket sync", () => {
  it("makes one ticket when a create landed but its answer was lost and a new bridge on the same database takes over", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-tickets-"));
    const config = configFor(sim, dir);
    // HaloPSA makes the ticket, then the answer never comes: the client gives up after 0.5 s.
    sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Tickets" } });
    const first = await bridgeParts(config);
    const task = raiseTask(first, "ada@example.com");
    await waitFor(() => sim.state.tickets.size === 1, 5000, "the create landed in HaloPSA");
    // The process stops while the answer is still owed: it never learns the ticket's id.
    await first.sync.stop();
    first.db.close();
    const onDisk = openDatabase(config.database);
    expect(onDisk.prepare("SELECT state, ticket_id, attempts FROM task_tickets WHERE task_id = ?").get(task.id)).toEqual({ state: "to-create", ticket_id: null, attempts: 1 });
    onDisk.close();

    const second = await bridgeParts(config);
    cleanups.push(async () => {
      await second.sync.stop();
      second.db.close();
    });
    await second.sync.drain();

    const [made, ...more] = [...sim.state.tickets.values()];
    expect(more).toEqual([]);
    expect(second.stores.taskTickets.get(task.id)).toMatchObject({ state: "open", ticketId: made!.id, lastError: null });
    expect(sim.requestCount("POST", "/api/Tickets")).toBe(1);
    // The second attempt looked for the tag by summary before anything else.
    expect(sim.ticketQueries.at(-1)).toMatchObject({ search_summary: `(scim-bridge task ${task.id})` });
  });

  it("closes a ticket whose task ended before its create was answered, in the configured closed status", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const config = configFor(sim, mkdtempSync(join(tmpdir(), "scim-bridge-tickets-")));
    sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Tickets" } });
    const parts = await bridgeParts(config);
    cleanups.push(async () => {
      await parts.sync.stop();
      parts.db.close();
    });
    const task = raiseTask(parts, "gone@example.com");
    // The task ends while the create has landed in HaloPSA and its answer is still owed.
    await waitFor(() => sim.state.tickets.size === 1, 5000, "the create landed in HaloPSA");
    parts.db.transaction(() => parts.stores.tasks.cancel(task.id, "the user left the group")).immediate();
    expect(parts.stores.taskTickets.get(task.id)).toMatchObject({ state: "to-close", ticketId: null });
    await waitFor(() => parts.stores.taskTickets.get(task.id)?.state === "closed", 5000, "the ticket closed");

    const [made] = [...sim.state.tickets.values()];
    expect(made).toMatchObject({ status_id: 21 });
    expect(sim.actions.of(made!.id).map((a) => a.note)).toEqual(["Cancelled in scim-bridge: the user left the group"]);
  });

  it("reopens the same ticket a done task had when the bridge reopens the task, and a retry whose answer was lost posts the note once", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const parts = await bridgeParts(configFor(sim, mkdtempSync(join(tmpdir(), "scim-bridge-tickets-"))));
    cleanups.push(() => void parts.db.close());
    // Steps are carried out when this test drains, not when a row falls due.
    await parts.sync.stop();
    const task = raiseTask(parts, "back@example.com");
    await parts.sync.drain();
    const ticketId = parts.stores.taskTickets.get(task.id)!.ticketId!;
    parts.db.transaction(() => parts.stores.tasks.close(task.id, "done", "reviewer@msp.example", null)).immediate();
    await parts.sync.drain();
    expect(sim.state.tickets.get(ticketId)).toMatchObject({ status_id: 21 });

    parts.db.transaction(() => parts.stores.tasks.reopenDone(task.id, "Huntress has no account for back@example.com", "read-back")).immediate();
    expect(parts.stores.taskTickets.get(task.id)).toMatchObject({ state: "to-reopen", note: "Reopened in scim-bridge: Huntress has no account for back@example.com" });
    // HaloPSA applies the note, then the answer never comes.
    sim.faults.hangNext(1, { commit: true, match: { method: "POST", path: "/api/Actions" } });
    await parts.sync.drain();
    expect(parts.stores.taskTickets.get(task.id)).toMatchObject({ state: "to-reopen", attempts: 1 });
    expect(parts.sync.status()).toMatchObject({ toCreate: 0, toClose: 0, toReopen: 1, failing: 1, lastError: expect.stringMatching(/timed out|timeout/i) });
    await waitFor(async () => (await parts.sync.drain(), parts.stores.taskTickets.get(task.id)!.state === "open"), 5000, "the reopen retried");

    expect(sim.state.isOpen(sim.state.tickets.get(ticketId)!)).toBe(true);
    expect(sim.actions.of(ticketId).map((a) => [a.note, a.new_status])).toEqual([
      ["Done in scim-bridge by reviewer@msp.example", 21],
      ["Reopened in scim-bridge: Huntress has no account for back@example.com", 1],
    ]);
    expect(sim.state.tickets.size).toBe(1);
    expect(parts.sync.status()).toMatchObject({ toCreate: 0, toClose: 0, toReopen: 0, failing: 0, lastError: null });
  });

  it("makes the ticket of a task reopened before its create was tried, and only notes a ticket whose close had not been carried out", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const parts = await bridgeParts(configFor(sim, mkdtempSync(join(tmpdir(), "scim-bridge-tickets-"))));
    cleanups.push(() => void parts.db.close());
    await parts.sync.stop();
    const task = raiseTask(parts, "quick@example.com");
    const doneThenReopened = () =>
      parts.db
        .transaction(() => {
          parts.stores.tasks.close(task.id, "done", "reviewer@msp.example", null);
          parts.stores.tasks.reopenDone(task.id, "Huntress shows no such account", "read-back");
        })
        .immediate();

    // Done and reopened before the sync ran: no ticket was ever asked of HaloPSA, so one is made now.
    doneThenReopened();
    expect(parts.stores.taskTickets.get(task.id)).toMatchObject({ state: "to-create", attempts: 0 });
    await parts.sync.drain();
    const [ticket, ...more] = [...sim.state.tickets.values()];
    expect(more).toEqual([]);
    expect(parts.stores.taskTickets.get(task.id)).toMatchObject({ state: "open", ticketId: ticket!.id });

    // Again, now the ticket exists but its close was never sent: it gets the note and keeps its open status.
    doneThenReopened();
    await parts.sync.drain();
    expect(sim.actions.of(ticket!.id).map((a) => [a.note, a.new_status])).toEqual([["Reopened in scim-bridge: Huntress shows no such account", null]]);
    expect(sim.state.tickets.get(ticket!.id)).toMatchObject({ status_id: 1 });
    expect(sim.requestCount("POST", "/api/Tickets")).toBe(1);
  });

  it("makes no ticket for a blocked task, which is not to be worked yet", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const parts = await bridgeParts(configFor(sim, mkdtempSync(join(tmpdir(), "scim-bridge-tickets-"))));
    cleanups.push(async () => {
      await parts.sync.stop();
      parts.db.close();
    });
    const blocked = raiseTask(parts, "kept@example.com", "blocked");
    await parts.sync.drain();
    expect(parts.stores.taskTickets.get(blocked.id)).toBeUndefined();
    parts.db.transaction(() => parts.stores.tasks.cancel(blocked.id, "unblocked")).immediate();
    await parts.sync.drain();
    expect(sim.requestCount("POST", "/api/Tickets") + sim.requestCount("POST", "/api/Actions")).toBe(0);
  });

  it("spends the HaloPSA app's one rate budget: ticket calls go through the client the agent calls use", async () => {
    const sim = await startHaloPsaSimulator({ rateLimit: null });
    cleanups.push(() => sim.close());
    const config = configFor(sim, mkdtempSync(join(tmpdir(), "scim-bridge-tickets-")), { requests: 4, windowSeconds: 1.5 });
    const parts = await bridgeParts(config);
    cleanups.push(async () => {
      await parts.sync.stop();
      parts.db.close();
    });
    const client = parts.connections.ticketApis.get("halopsa")!.client;
    // An agent read (token + list) through the connector spends from this client's budget...
    await parts.connections.connectors.get("halopsa")!.readBack!();
    const afterAgents = client.stats();
    expect(afterAgents.calls).toBeGreaterThanOrEqual(1);
    // ...and ticket reads then wait for the same window instead of adding to HaloPSA's load.
    const started = Date.now();
    await parts.connections.ticketApis.get("halopsa")!.read([1]);
    await parts.connections.ticketApis.get("halopsa")!.read([1]);
    await parts.connections.ticketApis.get("halopsa")!.read([1]);
    const stats = client.stats();
    expect(stats.calls).toBe(afterAgents.calls + 3);
    expect(stats.rateLimitWaits).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});

/**
 * Tasks as HaloPSA tickets, end to end over real HTTP (issue 12 §1; docs/manual-tasks.md): a real
 * bridge (SQLite file, loopback HTTP) with a manual Huntress app whose tasks are also tickets in
 * the HaloPSA simulator. Each test asserts what a technician or an admin would see: one ticket per
 * task in HaloPSA, the task done by the agent who closed the ticket, the identity map moved.
 */
import { describe, expect, it } from "vitest";
import { CLOSED_STATUS_ID } from "../../src/dev/halopsa-simulator.js";
import type { SimTicket } from "../../src/dev/halopsa-simulator.js";
import { rigForTest, waitFor, type Rig } from "../support/provisioning.js";

const PORTAL = "Huntress Users";

const ticketed = {
  extraApps: [{ name: "huntress", type: "manual", template: "huntress", tickets: { halopsa: { ticketTypeId: 3, team: "1st Line", priorityId: 4 } } }],
  extraRules: [{ group: PORTAL, app: "huntress", role: "standard" }],
  // No timer read: each test reads tickets back when it means to.
  halopsa: { ticketReadSeconds: 3600 },
};

/** The simulator's tickets made by the bridge (tagged), by task id. */
function bridgeTickets(rig: Rig): Map<number, SimTicket[]> {
  const out = new Map<number, SimTicket[]>();
  for (const t of rig.sim.state.tickets.values()) {
    const m = /^scim-bridge:task:(\d+):/.exec(t.third_party_id_string ?? "");
    if (m) out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), t]);
  }
  return out;
}

async function ticketOf(rig: Rig, taskId: number): Promise<SimTicket> {
  return waitFor(
    async () => {
      const task = await rig.admin("GET", `/tasks/${taskId}`);
      return task.body.ticketId === null ? undefined : rig.sim.state.tickets.get(task.body.ticketId as number);
    },
    10_000,
    `a ticket for task ${taskId}`,
  );
}

async function openTask(rig: Rig, userId: string, action: string): Promise<any> {
  return waitFor(async () => (await rig.admin("GET", `/tasks?user=${userId}&state=open`)).body.tasks.find((t: any) => t.action === action), 10_000, `an open ${action} task`);
}

async function joinPortal(rig: Rig, email: string, displayName = "Given Family") {
  const user = await rig.createUser(email, { displayName });
  const group = await rig.createGroup(PORTAL, [user.id]);
  return { user, group, task: await openTask(rig, user.id, "invite") };
}

describe("tasks as HaloPSA tickets", () => {
  it("makes exactly one ticket per task, with the steps, person, due date and a link, every value escaped", async () => {
    const rig = await rigForTest(ticketed);
    const { task } = await joinPortal(rig, "ada@example.com", `Ada <img src=x onerror=alert(1)> "Lovelace"`);
    const ticket = await ticketOf(rig, task.id);
    await rig.idle();

    expect(ticket).toMatchObject({ summary: `${task.title} (scim-bridge task ${task.id})`, tickettype_id: 3, team: "1st Line", priority_id: 4 });
    expect(ticket.details_html).toContain("&lt;img src=x onerror=alert(1)&gt; &quot;Lovelace&quot;");
    expect(ticket.details_html).not.toContain("<img");
    expect(ticket.details_html).toContain("ada@example.com");
    expect(ticket.details_html).toContain(task.dueAt);
    expect(ticket.details_html).toContain(`/admin#task-${task.id}"`);
    expect(ticket.details_html).toContain("Role: standard");
    for (const step of task.steps as string[]) expect(ticket.details_html).toContain(step.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"));
    expect([...bridgeTickets(rig).values()].map((ts) => ts.length)).toEqual([1]);
    expect(rig.sim.requestCount("POST", "/api/Tickets")).toBe(1);
  });

  it("completes the task when an agent closes its ticket: the closing agent as actor, the last note as evidence, the identity map moved, and the follow-up gets its own ticket", async () => {
    const rig = await rigForTest(ticketed);
    const { user, task } = await joinPortal(rig, "grace@example.com");
    const ticket = await ticketOf(rig, task.id);
    const tech = rig.sim.seedAgent({ name: "Tess Tech", email: "tess@msp.example" });
    rig.sim.state.saveTicket({ id: ticket.id, agent_id: tech.id });
    rig.sim.actions.add({ ticket_id: ticket.id, note: "Looking at it" }, tech.id);
    rig.sim.actions.closeAsAgent(ticket.id, tech.id, "Invitation sent from the Huntress portal at 10:02");

    await rig.bridge.running.ticketSync!.readBack();

    const done = (await rig.admin("GET", `/tasks/${task.id}`)).body;
    expect(done).toMatchObject({ state: "done", completedBy: "halopsa:Tess Tech", note: "Invitation sent from the Huntress portal at 10:02", ticketId: ticket.id });
    const access = await rig.admin("GET", `/users/${user.id}/access`);
    expect(access.body.apps.find((a: any) => a.app === "huntress").account).toMatchObject({ state: "invited", role: "standard" });
    const confirm = await openTask(rig, user.id, "confirm");
    const confirmTicket = await ticketOf(rig, confirm.id);
    expect(confirmTicket.id).not.toBe(ticket.id);
    expect(rig.sim.state.isOpen(confirmTicket)).toBe(true);
    // The closed ticket got no note from the bridge: it was closed in HaloPSA, not by the bridge.
    expect(rig.sim.actions.of(ticket.id).map((a) => a.note)).toEqual(["Looking at it", "Invitation sent from the Huntress portal at 10:02"]);
    expect(rig.audit("task.done").at(-1)).toMatchObject({ actor: "halopsa:Tess Tech", resourceId: String(task.id) });
  });

  it("reads tickets back on a reconcile pass too", async () => {
    const rig = await rigForTest(ticketed);
    const { task } = await joinPortal(rig, "pass@example.com");
    const ticket = await ticketOf(rig, task.id);
    rig.sim.actions.closeAsAgent(ticket.id, rig.sim.seedAgent({ name: "Tess Tech" }).id, "Done from the portal");
    expect((await rig.admin("GET", `/tasks/${task.id}`)).body.state).toBe("open");

    expect((await rig.admin("POST", "/reconcile")).status).toBe(200);

    expect((await rig.admin("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "done", note: "Done from the portal" });
  });

  it("reads the linked tickets in pages with one list read, never one GET per task", async () => {
    const rig = await rigForTest(ticketed);
    const tasks = [];
    for (const email of ["a@example.com", "b@example.com", "c@example.com"]) {
      const user = await rig.createUser(email);
      tasks.push(user);
    }
    await rig.createGroup(PORTAL, tasks.map((u) => u.id));
    const raised = await Promise.all(tasks.map((u) => openTask(rig, u.id, "invite")));
    const tickets = await Promise.all(raised.map((t) => ticketOf(rig, t.id)));
    const before = rig.sim.ticketQueries.length;
    rig.sim.resetCounts();

    await rig.bridge.running.ticketSync!.readBack();

    expect(rig.sim.ticketQueries.slice(before)).toEqual([{ ticketids: tickets.map((t) => t.id).join(","), pageinate: "true", page_no: "1", page_size: "100" }]);
    expect(rig.sim.requestCount("GET", "/api/Tickets")).toBe(1);
    // The instance's closed statuses, read from it (all, then all but the closed).
    expect(rig.sim.requestCount("GET", "/api/Status")).toBe(2);
    expect(rig.sim.requestCount("GET", "/api/Actions")).toBe(0);
  });

  it("closes the ticket of a task the bridge cancelled, with a note saying why, in one of the instance's closed statuses", async () => {
    const rig = await rigForTest(ticketed);
    const { user, group, task } = await joinPortal(rig, "brief@example.com");
    const ticket = await ticketOf(rig, task.id);

    await rig.removeMember(group.id, user.id);
    await waitFor(async () => (await rig.admin("GET", `/tasks/${task.id}`)).body.state === "cancelled", 10_000, "the invite cancelled");
    await waitFor(() => !rig.sim.state.isOpen(rig.sim.state.tickets.get(ticket.id)!), 10_000, "the ticket closed");

    const [note, ...more] = rig.sim.actions.of(ticket.id);
    expect(more).toEqual([]);
    expect(note!.note).toMatch(/^Cancelled in scim-bridge: /);
    expect(note!.new_status).toBe(CLOSED_STATUS_ID);
    expect(rig.sim.state.tickets.get(ticket.id)).toMatchObject({ hasbeenclosed: true });
    // Read back later, the closed ticket does not complete the cancelled task.
    await rig.bridge.running.ticketSync!.readBack();
    expect((await rig.admin("GET", `/tasks/${task.id}`)).body.state).toBe("cancelled");
  });

  it("closes the ticket of a task a newer plan superseded, with a note naming the task that replaces it, which gets its own ticket", async () => {
    const rig = await rigForTest({ ...ticketed, extraRules: [...ticketed.extraRules, { group: "Huntress Admins", app: "huntress", role: "admin" }] });
    const { user, task } = await joinPortal(rig, "promoted@example.com");
    const ticket = await ticketOf(rig, task.id);

    // Before anyone invited her, she is made an admin: the standard invitation is pointless now.
    await rig.createGroup("Huntress Admins", [user.id]);
    const replacement = await waitFor(async () => (await rig.admin("GET", `/tasks?user=${user.id}&state=open`)).body.tasks.find((t: any) => t.role === "admin"), 10_000, "the admin invitation");
    await waitFor(() => !rig.sim.state.isOpen(rig.sim.state.tickets.get(ticket.id)!), 10_000, "the superseded ticket closed");

    expect((await rig.admin("GET", `/tasks/${task.id}`)).body).toMatchObject({ state: "cancelled", supersededBy: replacement.id });
    expect(rig.sim.actions.of(ticket.id).map((a) => a.note)).toEqual([`Cancelled in scim-bridge: superseded by a newer plan: ${replacement.title}`]);
    const replacementTicket = await ticketOf(rig, replacement.id);
    expect(replacementTicket.id).not.toBe(ticket.id);
    expect(rig.sim.state.isOpen(replacementTicket)).toBe(true);
    expect([...bridgeTickets(rig).values()].map((ts) => ts.length)).toEqual([1, 1]);
  });

  it("closes the ticket with a note naming the reviewer when the task is marked done in the bridge, and leaves a failed task's ticket open", async () => {
    const rig = await rigForTest(ticketed);
    const { task } = await joinPortal(rig, "here@example.com");
    const ticket = await ticketOf(rig, task.id);
    const other = await joinPortal(rig, "there@example.com");
    const otherTicket = await ticketOf(rig, other.task.id);

    expect((await rig.admin("POST", `/tasks/${task.id}/complete`, { note: "sent at 10:02" })).status).toBe(200);
    expect((await rig.admin("POST", `/tasks/${other.task.id}/fail`, { reason: "the portal is down" })).status).toBe(200);
    await waitFor(() => !rig.sim.state.isOpen(rig.sim.state.tickets.get(ticket.id)!), 10_000, "the ticket closed");

    expect(rig.sim.actions.of(ticket.id).map((a) => a.note)).toEqual(["Done in scim-bridge by env:SCIM_BRIDGE_ADMIN_TOKEN: sent at 10:02"]);
    expect(rig.sim.state.isOpen(rig.sim.state.tickets.get(otherTicket.id)!)).toBe(true);
    expect(rig.sim.actions.of(otherTicket.id)).toEqual([]);
  });

  it("reopens a done task when its ticket is reopened in HaloPSA", async () => {
    const rig = await rigForTest(ticketed);
    const { user, task } = await joinPortal(rig, "again@example.com");
    const ticket = await ticketOf(rig, task.id);
    const tech = rig.sim.seedAgent({ name: "Tess Tech" });
    rig.sim.actions.closeAsAgent(ticket.id, tech.id, "Invited");
    await rig.bridge.running.ticketSync!.readBack();
    const confirm = await openTask(rig, user.id, "confirm");
    const confirmTicket = await ticketOf(rig, confirm.id);
    rig.sim.actions.closeAsAgent(confirmTicket.id, tech.id, "Accepted, saw her in the portal", 21);
    await rig.bridge.running.ticketSync!.readBack();
    expect((await rig.admin("GET", `/tasks/${confirm.id}`)).body.state).toBe("done");

    rig.sim.actions.reopenAsAgent(confirmTicket.id, tech.id, "She never accepted: the invite bounced");
    await rig.bridge.running.ticketSync!.readBack();

    expect((await rig.admin("GET", `/tasks/${confirm.id}`)).body).toMatchObject({ state: "open", completedBy: null });
    expect(rig.audit("task.reopen").at(-1)).toMatchObject({ actor: `halopsa:agent ${tech.id}`, after: { state: "open", reason: `HaloPSA ticket ${confirmTicket.id} was reopened` } });
    // Reopened there, so nothing goes back: no note from the bridge, the row simply open again.
    await rig.bridge.running.ticketSync!.drain();
    expect(rig.sim.actions.of(confirmTicket.id).map((a) => a.note)).toEqual(["Accepted, saw her in the portal", "She never accepted: the invite bounced"]);
    expect(rig.bridge.running.db.prepare("SELECT state FROM task_tickets WHERE task_id = ?").pluck().get(confirm.id)).toBe("open");
    // Closed again later, it completes the task again.
    rig.sim.actions.closeAsAgent(confirmTicket.id, tech.id, "Accepted for real this time");
    await rig.bridge.running.ticketSync!.readBack();
    expect((await rig.admin("GET", `/tasks/${confirm.id}`)).body).toMatchObject({ state: "done", note: "Accepted for real this time" });
  });

  it("keeps one ticket per task through a HaloPSA outage: 503s, then recovery, none lost and none doubled", async () => {
    const rig = await rigForTest(ticketed);
    rig.sim.faults.failNext(6, { status: 503, match: { method: "POST", path: "/api/Tickets" } });
    const { task } = await joinPortal(rig, "outage@example.com");
    await waitFor(() => rig.bridge.running.db.prepare("SELECT last_error FROM task_tickets WHERE task_id = ?").pluck().get(task.id), 10_000, "a recorded failure");

    const ticket = await ticketOf(rig, task.id);
    expect([...bridgeTickets(rig).values()].map((ts) => ts.length)).toEqual([1]);
    expect(rig.sim.statusCounts.get(503)).toBeGreaterThan(0);
    expect(ticket.third_party_id_string).toMatch(new RegExp(`^scim-bridge:task:${task.id}:`));
    expect(rig.bridge.running.db.prepare("SELECT state, last_error FROM task_tickets WHERE task_id = ?").get(task.id)).toEqual({ state: "open", last_error: null });
  });
});

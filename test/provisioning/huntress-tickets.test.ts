/**
 * Issue 12 end to end, the loop an MSP runs: a Huntress app the bridge can read (API mode falling
 * back to tasks, and a read-only key) whose tasks are also tickets in the HaloPSA simulator. A
 * technician works the ticket in HaloPSA and the portal in the Huntress simulator; the bridge
 * completes the task from the closed ticket, verifies it by reading Huntress back, raises the
 * follow-up with its own ticket, and, when Huntress does not show the work, reopens the task and
 * the same ticket with what Huntress shows. Real bridge: YAML config, SQLite file, loopback HTTP.
 */
import { describe, expect, it } from "vitest";
import { CLOSED_STATUS_ID, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import type { Task } from "../../src/domain/task.js";
import { ADMINS, rig, type Rig } from "../support/huntress-rig.js";
import { waitFor } from "../support/provisioning.js";

const MODES = [
  {
    mode: "API mode, every write failing so each change falls back to a task",
    start: async () => {
      const r = await rig({ tickets: { ticketTypeId: 3, team: "1st Line" } });
      r.sim.faults.failNext(1_000_000, { status: 503, match: { method: "POST" } });
      return r;
    },
  },
  {
    mode: "a read-only key (writes: false)",
    start: async () => {
      const r = await rig({ app: { writes: false }, tickets: { ticketTypeId: 3, team: "1st Line" } });
      r.sim.setWritePermission(false);
      return r;
    },
  },
];

const halo = (r: Rig): HaloPsaSimulator => r.halo!;
const task = (r: Rig, id: number): Task => r.bridge.running.tasks.get(id)!;
const jobsIdle = (r: Rig) => waitFor(() => (r.bridge.running.db.prepare("SELECT count(*) FROM jobs WHERE dead = 0").pluck().get() as number) === 0, 10_000, "an empty job queue");

/** The task's ticket in HaloPSA, once the outbox has made it. */
const ticketOf = (r: Rig, taskId: number) =>
  waitFor(() => r.bridge.running.tasks.ticketIdsOf([taskId]).get(taskId), 10_000, `a ticket for task ${taskId}`).then((id) => halo(r).state.tickets.get(id)!);

/** Tickets the bridge made (tagged with a task), however many per task. */
const bridgeTicketCount = (r: Rig) => [...halo(r).state.tickets.values()].filter((t) => /^scim-bridge:task:/.test(t.third_party_id_string ?? "")).length;

/** The bridge reads its tickets back (the 2-minute timer's work), then the user's job reads Huntress back. */
async function readTickets(r: Rig): Promise<void> {
  await r.bridge.running.ticketSync!.readBack();
  await jobsIdle(r);
}

/**
 * Carol joins Huntress Admins; Tess, a technician, works the invitation's ticket: she invites Carol
 * in the Huntress portal as Account Admin and closes the ticket with a note. Returns the follow-up.
 */
async function invitedThroughTicket(r: Rig) {
  const carol = await r.newUser("Carol Chen");
  await r.join(carol, ADMINS);
  const invite = r.open(carol)!;
  expect(invite).toMatchObject({ action: "invite", role: "admin" });
  const inviteTicket = await ticketOf(r, invite.id);
  expect(inviteTicket.summary).toBe(`${invite.title} (scim-bridge task ${invite.id})`);
  const tess = halo(r).seedAgent({ name: "Tess Tech", email: "tess@msp.example" });
  halo(r).state.saveTicket({ id: inviteTicket.id, agent_id: tess.id });

  r.sim.state.invite(r.sim.state.account, { email: "carol@example.com", firstName: "Carol", lastName: "Chen", permissions: "Admin", organizationId: undefined });
  halo(r).actions.closeAsAgent(inviteTicket.id, tess.id, "Invited carol@example.com as Account Admin from the portal");
  await readTickets(r);

  // Done by the agent who closed the ticket, the note as evidence; a pending invitation cannot be read, so not verified yet.
  expect(task(r, invite.id)).toMatchObject({ state: "done", completedBy: "halopsa:Tess Tech", note: "Invited carol@example.com as Account Admin from the portal", verification: "pending" });
  expect(r.account(carol)).toMatchObject({ state: "invited", role: "admin" });
  const confirm = r.open(carol)!;
  expect(confirm).toMatchObject({ action: "confirm", role: "admin" });
  const confirmTicket = await ticketOf(r, confirm.id);
  halo(r).state.saveTicket({ id: confirmTicket.id, agent_id: tess.id });
  expect(confirmTicket.id).not.toBe(inviteTicket.id);
  expect(halo(r).state.isOpen(confirmTicket)).toBe(true);
  return { carol, invite, inviteTicket, confirm, confirmTicket, tess };
}

describe.each(MODES)("tasks as HaloPSA tickets, verified by reading Huntress back: $mode", ({ start }) => {
  it("closing the ticket completes the task as the agent, the read-back verifies it, and the follow-up gets its own ticket", async () => {
    const r = await start();
    const { carol, invite, inviteTicket, confirm, confirmTicket, tess } = await invitedThroughTicket(r);

    const [membership] = r.sim.acceptInvitation("carol@example.com");
    halo(r).actions.closeAsAgent(confirmTicket.id, tess.id, "Carol accepted: in the portal as Account Admin");
    await readTickets(r);

    expect(task(r, confirm.id)).toMatchObject({ state: "done", completedBy: "halopsa:Tess Tech", note: "Carol accepted: in the portal as Account Admin", verification: "verified", verifiedHow: "read-back" });
    // The same read shows the invitation accepted with the right role: the invite is verified too.
    expect(task(r, invite.id)).toMatchObject({ state: "done", verification: "verified", verifiedHow: "read-back" });
    expect(r.account(carol)).toMatchObject({ state: "active", role: "admin" });
    expect(r.audit("task.verified").map((e) => [Number(e.resourceId), e.after.evidence])).toEqual([
      [invite.id, `Huntress shows carol@example.com as Account Admin (account ${membership!.id})`],
      [confirm.id, `Huntress shows carol@example.com as Account Admin (account ${membership!.id})`],
    ]);
    // One ticket per task, both closed by the technician; the bridge wrote nothing on them.
    expect(bridgeTicketCount(r)).toBe(2);
    for (const t of [inviteTicket, confirmTicket]) {
      expect(halo(r).state.isOpen(halo(r).state.tickets.get(t.id)!)).toBe(false);
      expect(halo(r).actions.of(t.id).every((a) => a.who_agentid === tess.id)).toBe(true);
    }
    expect(r.open(carol)).toBeUndefined();

    // Reopened in HaloPSA after Huntress showed the work: the verified task stays done, and the reopen is read once.
    halo(r).actions.reopenAsAgent(confirmTicket.id, tess.id, "Reopening to double-check");
    await readTickets(r);
    expect(task(r, confirm.id)).toMatchObject({ state: "done", verification: "verified" });
    halo(r).resetCounts();
    await readTickets(r);
    expect(halo(r).requestCount("GET", "/api/Actions")).toBe(0);
  });

  it("a ticket closed but the work not in Huntress reopens the task with what Huntress shows, and reopens the same ticket with that note", async () => {
    const r = await start();
    const { carol, invite, confirm, confirmTicket, tess } = await invitedThroughTicket(r);
    halo(r).resetCounts();

    // Closed by mistake: Carol never accepted.
    halo(r).actions.closeAsAgent(confirmTicket.id, tess.id, "Done");
    await readTickets(r);

    const reason = "Huntress has no account for carol@example.com (the invitation is not accepted yet)";
    expect(task(r, confirm.id)).toMatchObject({ state: "open", completedBy: null, reason, verification: null });
    expect(r.audit("task.reopened-by-read-back").map((e) => [Number(e.resourceId), e.actor, e.after.reason])).toEqual([[confirm.id, "read-back", reason]]);
    expect(task(r, invite.id)).toMatchObject({ state: "done", verification: "pending" });
    expect(r.account(carol)).toMatchObject({ state: "invited" });

    // The same ticket comes back: the reason as a note, in an open status the instance lists (New, its first).
    const row = () => r.bridge.running.db.prepare("SELECT state, last_error FROM task_tickets WHERE task_id = ?").get(confirm.id) as { state: string };
    await waitFor(() => row().state === "open", 10_000, "the ticket reopened");
    expect(halo(r).state.isOpen(halo(r).state.tickets.get(confirmTicket.id)!)).toBe(true);
    const bridgeNote = halo(r).actions.of(confirmTicket.id).at(-1)!;
    expect(bridgeNote).toMatchObject({ note: `Reopened in scim-bridge: ${reason}`, new_status: 1, hiddenfromuser: true });
    expect(bridgeNote.who_agentid).not.toBe(tess.id);
    expect(halo(r).requestCount("GET", "/api/Status")).toBeGreaterThan(0);
    expect(halo(r).requestCount("POST", "/api/Tickets")).toBe(0);
    expect(bridgeTicketCount(r)).toBe(2);
    expect(row()).toEqual({ state: "open", last_error: null });

    // Reading the reopened ticket back does not undo anything; once Carol accepts, closing it again completes and verifies.
    await readTickets(r);
    expect(task(r, confirm.id).state).toBe("open");
    r.sim.acceptInvitation("carol@example.com");
    halo(r).actions.closeAsAgent(confirmTicket.id, tess.id, "Accepted now", CLOSED_STATUS_ID);
    await readTickets(r);
    expect(task(r, confirm.id)).toMatchObject({ state: "done", note: "Accepted now", verification: "verified" });
    expect(bridgeTicketCount(r)).toBe(2);
  });
});

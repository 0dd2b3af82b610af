/**
 * Tasks as HaloPSA tickets (docs/manual-tasks.md, "Tasks as HaloPSA tickets"). Carries the ticket
 * outbox (src/db/task-tickets.ts) out against HaloPSA: creates a ticket for each task raised,
 * notes and closes the ticket of a task the bridge ended, and notes and reopens the ticket of a
 * done task the bridge reopened (read-back found the work missing). And reads the linked tickets back, in
 * pages: a ticket closed in HaloPSA completes its task (TaskReview, the one path that moves the
 * identity map and raises the follow-up), a ticket reopened there reopens its done task.
 *
 * Exactly one ticket per task: an attempt is counted before its call, and any attempt after the
 * first looks for the ticket by its tag before creating, so a create whose answer was lost (a
 * timeout, a crash) is found instead of made twice. Failures back off per row; rows are on disk.
 */
import type { TaskTicket, TaskTicketStore, TicketSyncHealth } from "../db/task-tickets.js";
import { TICKET_ACTOR_PREFIX } from "../db/task-tickets.js";
import type { TaskStore } from "../db/tasks.js";
import type { Clock } from "../clock.js";
import { errorText } from "../domain/secret-scrubber.js";
import type { Task } from "../domain/task.js";
import { isBridgeError } from "../errors.js";
import type { Logger } from "../log.js";
import type { HaloAction, HaloPsaTicketApi, TaskTicketWire } from "../apps/halopsa/ticket-api.js";
import type { TicketSettings } from "../apps/manual/task-app.js";
import { summaryMarker, ticketDetails, ticketSummary, ticketTag } from "./ticket-body.js";
import type { TaskReview } from "./task-review.js";

export interface TicketSyncDeps {
  readonly store: TaskTicketStore;
  readonly tasks: TaskStore;
  readonly review: Pick<TaskReview, "complete" | "reopenDone">;
  /** Per halopsa app, the ticket calls on its one client. */
  readonly apis: ReadonlyMap<string, HaloPsaTicketApi>;
  /** Per task app, its `tickets.halopsa` settings. */
  readonly settings: ReadonlyMap<string, TicketSettings>;
  /** The review page (…/admin), linked from each ticket. */
  readonly queueUrl: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** The bridge's one secret scrubber: every stored or logged error passes through it. */
  readonly scrub: (text: string) => string;
  /** First retry after this long, doubling per attempt up to `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Counts a failed ticket call (scim_bridge_ticket_sync_failures_total). */
  readonly onFailure?: () => void;
}

/** When this process last ran the outbox and read the tickets back, and what the last read met. */
interface TicketSyncRuns {
  readonly lastSyncAt: string | null;
  readonly lastReadAt: string | null;
  readonly lastReadError: string | null;
}

/** The sync's health for the status page and API: its last runs, and the outbox's waiting and failing rows. */
export type TicketSyncStatus = TicketSyncRuns & TicketSyncHealth;

/** Rows carried out per round: a HaloPSA outage stops a round at the first failure, not after all. */
const ROUND = 25;

export class TicketSync {
  private draining: Promise<void> | undefined;
  private again = false;
  private reading: Promise<void> | undefined;
  private dueTimer: NodeJS.Timeout | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly closedStatuses = new Map<string, Promise<number[]>>();
  private state: TicketSyncRuns = { lastSyncAt: null, lastReadAt: null, lastReadError: null };

  constructor(private readonly d: TicketSyncDeps) {}

  status(): TicketSyncStatus {
    return { ...this.state, ...this.d.store.health() };
  }

  /** Drains the outbox now and whenever a row falls due; reads tickets back every `readIntervalMs`. */
  start(readIntervalMs: number): void {
    this.stopped = false;
    this.wake();
    // Each interval also drains rows another process wrote (the CLI completing a task).
    this.readTimer = setInterval(() => {
      this.wake();
      void this.readBack();
    }, readIntervalMs);
    this.readTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.readTimer);
    clearTimeout(this.dueTimer);
    await Promise.allSettled([this.draining, this.reading]);
  }

  /** Something to do (a task raised or ended): drain the outbox at once. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      } else this.scheduleNext();
    });
  }

  /** Carries out every due row; resolves when none is due. */
  async drain(): Promise<void> {
    for (;;) {
      const due = this.d.store.due(ROUND);
      if (due.length === 0) return;
      let failed = false;
      for (const row of due) if (!(await this.carryOut(row))) failed = true;
      this.state = { ...this.state, lastSyncAt: this.d.clock.now().toISOString() };
      // Failed rows are pushed out by their backoff; stop here rather than spin on an outage.
      if (failed) return;
    }
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    clearTimeout(this.dueTimer);
    const next = this.d.store.nextDueAt();
    if (next === undefined) return;
    const delay = Math.max(0, Date.parse(next) - this.d.clock.now().getTime());
    this.dueTimer = setTimeout(() => this.wake(), Math.min(delay, 2_147_000_000));
    this.dueTimer.unref();
  }

  private backoff(attempts: number): number {
    const base = this.d.backoffMs ?? 5000;
    return Math.min(base * 2 ** Math.min(attempts, 16), this.d.maxBackoffMs ?? 300_000);
  }

  /** One row's create or close; false when HaloPSA failed it (recorded on the row, retried later). */
  private async carryOut(row: TaskTicket): Promise<boolean> {
    const claimed = this.d.store.claim(row.taskId, this.backoff(row.attempts));
    const task = this.d.tasks.get(row.taskId);
    const api = this.d.apis.get(row.halopsaApp);
    if (!claimed || !task) return true;
    try {
      if (!api) throw new Error(`no halopsa app "${row.halopsaApp}" is configured`);
      if (claimed.state === "to-create") await this.create(api, claimed, task);
      else if (claimed.state === "to-reopen") await this.reopen(api, claimed, task);
      else await this.close(api, claimed, task);
      return true;
    } catch (e: unknown) {
      const error = errorText(e, this.d.scrub);
      this.d.store.recordFailure(row.taskId, error);
      this.d.onFailure?.();
      this.d.log.warn("HaloPSA ticket sync: will retry", { task: row.taskId, state: claimed.state, attempts: claimed.attempts, error });
      return false;
    }
  }

  /** The ticket an earlier attempt may have made, found by its tag. */
  private async findEarlier(api: HaloPsaTicketApi, task: Task): Promise<TaskTicketWire | undefined> {
    const found = await api.findTagged(summaryMarker(task.id), ticketTag(task));
    return found.sort((a, b) => a.id - b.id)[0];
  }

  private async create(api: HaloPsaTicketApi, row: TaskTicket, task: Task): Promise<void> {
    // attempts counts this one: any earlier attempt may have landed without an answer.
    const earlier = row.attempts > 1 ? await this.findEarlier(api, task) : undefined;
    if (earlier) {
      this.d.store.recordCreated(task.id, earlier.id);
      this.d.log.info("HaloPSA ticket sync: found the ticket an earlier attempt made", { task: task.id, ticket: earlier.id });
      return;
    }
    const s = this.settingsOf(task);
    const ticket = await api.create({
      summary: ticketSummary(task),
      details_html: ticketDetails(task, this.d.queueUrl),
      tickettype_id: s.ticketTypeId,
      team: s.team,
      ...(s.priorityId === undefined ? {} : { priority_id: s.priorityId }),
      ...(s.clientId === undefined ? {} : { client_id: s.clientId }),
      ...(s.siteId === undefined ? {} : { site_id: s.siteId }),
      third_party_id_string: ticketTag(task),
    });
    this.d.store.recordCreated(task.id, ticket.id);
    this.d.log.info("HaloPSA ticket created for a task", { task: task.id, ticket: ticket.id });
  }

  private async close(api: HaloPsaTicketApi, row: TaskTicket, task: Task): Promise<void> {
    let ticketId = row.ticketId;
    if (ticketId === null) {
      // Ended before its create was answered: close the ticket if one was made after all.
      const earlier = await this.findEarlier(api, task);
      if (!earlier) {
        this.d.store.recordClosed(task.id);
        return;
      }
      ticketId = earlier.id;
      this.d.store.recordCreated(task.id, ticketId);
    }
    const closed = await this.closedStatusIds(row.halopsaApp, task);
    if (row.attempts > 1) {
      // An earlier attempt may have closed it without an answer: never note it twice.
      const [now] = await api.read([ticketId]);
      if (now && closed.includes(now.status_id ?? -1)) {
        this.d.store.recordClosed(task.id);
        return;
      }
    }
    await api.addNote(ticketId, row.note ?? "Ended in scim-bridge", closed[0]);
    this.d.store.recordClosed(task.id);
    this.d.log.info("HaloPSA ticket closed: its task ended in the bridge", { task: task.id, ticket: ticketId });
  }

  /**
   * The same ticket back, with the reason as a note, in the instance's first open status. Read first:
   * a ticket already open (its close never carried out) gets the note only, and a retry whose
   * earlier attempt may have landed without an answer posts nothing twice.
   */
  private async reopen(api: HaloPsaTicketApi, row: TaskTicket, task: Task): Promise<void> {
    const ticketId = row.ticketId!;
    const closed = await this.closedStatusIds(row.halopsaApp, task);
    const [now] = await api.read([ticketId]);
    if (!now) throw new Error(`HaloPSA has no ticket ${ticketId} to reopen`);
    const isOpen = !closed.includes(now.status_id ?? -1);
    if (!(isOpen && row.attempts > 1)) await api.addNote(ticketId, row.note ?? "Reopened in scim-bridge", isOpen ? undefined : await this.openStatusId(row.halopsaApp, closed));
    this.d.store.recordReopened(task.id);
    this.d.log.info("HaloPSA ticket reopened: its task was reopened in the bridge", { task: task.id, ticket: ticketId });
  }

  /** The first of the instance's open statuses (GET /api/Status?excludeclosed=true) that is not a configured closed one. */
  private async openStatusId(halopsaApp: string, closed: readonly number[]): Promise<number> {
    const open = (await this.d.apis.get(halopsaApp)!.openStatuses()).find((s) => !closed.includes(s.id));
    if (!open) throw new Error("HaloPSA reports no open status (GET /api/Status?excludeclosed=true) to reopen a ticket in");
    return open.id;
  }

  private settingsOf(task: Task): TicketSettings {
    const s = this.d.settings.get(task.app);
    if (!s) throw new Error(`app "${task.app}" has no tickets.halopsa settings`);
    return s;
  }

  /** The configured closed statuses, else the instance's (read once per halopsa app, again after a failure). */
  private closedStatusIds(halopsaApp: string, task: Task): Promise<number[]> {
    const configured = this.settingsOf(task).closedStatusIds;
    if (configured) return Promise.resolve([...configured]);
    let ids = this.closedStatuses.get(halopsaApp);
    if (!ids) {
      const api = this.d.apis.get(halopsaApp)!;
      ids = api.closedStatuses().then((statuses) => {
        if (statuses.length === 0) throw new Error("HaloPSA reports no closed status (GET /api/Status): set tickets.halopsa.closedStatusIds");
        // A status named Closed first: it is the one a person would pick to close a ticket.
        return statuses.sort((a, b) => Number(b.name.toLowerCase() === "closed") - Number(a.name.toLowerCase() === "closed")).map((s) => s.id);
      });
      ids.catch(() => this.closedStatuses.delete(halopsaApp));
      this.closedStatuses.set(halopsaApp, ids);
    }
    return ids;
  }

  /** Reads every watched ticket back, in pages; concurrent callers share the read running. */
  readBack(): Promise<void> {
    this.reading ??= this.read()
      .then(
        () => void (this.state = { ...this.state, lastReadAt: this.d.clock.now().toISOString(), lastReadError: null }),
        (e: unknown) => {
          const error = errorText(e, this.d.scrub);
          this.d.onFailure?.();
          this.state = { ...this.state, lastReadAt: this.d.clock.now().toISOString(), lastReadError: error };
          this.d.log.warn("HaloPSA ticket read-back failed; next read at the next interval", { error });
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async read(): Promise<void> {
    for (const [halopsaApp, api] of this.d.apis) {
      const watched = this.d.store.watched(halopsaApp);
      if (watched.length === 0) continue;
      const tickets = new Map((await api.read(watched.map((w) => w.ticketId))).map((t) => [t.id, t]));
      for (const w of watched) {
        const ticket = tickets.get(w.ticketId);
        const task = this.d.tasks.get(w.taskId);
        if (!ticket || !task) continue;
        const isClosed = (await this.closedStatusIds(halopsaApp, task)).includes(ticket.status_id ?? -1);
        if (isClosed && w.state === "open") await this.completeFrom(api, ticket, task);
        else if (!isClosed && w.state === "closed") await this.reopenFrom(api, ticket, task);
      }
    }
  }

  /** Closed in HaloPSA: the task is done, by the closing agent, with the ticket's last note as evidence. */
  private async completeFrom(api: HaloPsaTicketApi, ticket: TaskTicketWire, task: Task): Promise<void> {
    const { actor, lastNote } = await this.lastChange(api, ticket);
    try {
      this.d.review.complete(task.id, actor, lastNote);
      this.d.log.info("task completed: its HaloPSA ticket was closed", { task: task.id, ticket: ticket.id, actor });
    } catch (e: unknown) {
      if (!isBridgeError(e)) throw e;
      // Not open any more (done meanwhile here, or cancelled): the ticket stays closed, the task as it
      // is. Still open (the account is another user's): read again next time, the warning with it.
      if (this.d.tasks.get(task.id)?.state !== "open") this.d.store.closedInHaloPsa(task.id);
      this.d.log.warn("a HaloPSA ticket was closed but its task could not be completed", { task: task.id, ticket: ticket.id, error: e.message });
    }
  }

  /**
   * Reopened in HaloPSA: the work is not done after all, unless the app showed it (a verified task
   * stays done). Either way the row follows HaloPSA, so this reopen is read once, not every interval.
   */
  private async reopenFrom(api: HaloPsaTicketApi, ticket: TaskTicketWire, task: Task): Promise<void> {
    if (task.state === "done") {
      const { actor } = await this.lastChange(api, ticket);
      try {
        this.d.review.reopenDone(task.id, actor, `HaloPSA ticket ${ticket.id} was reopened`);
      } catch (e: unknown) {
        if (!isBridgeError(e)) throw e;
        this.d.log.warn("a HaloPSA ticket was reopened but its task could not be", { task: task.id, ticket: ticket.id, error: e.message });
      }
    }
    this.d.store.reopenedInHaloPsa(task.id);
  }

  /**
   * Who last changed the ticket's status (`halopsa:<agent>`) and its last note, from its actions
   * (swagger GET /Actions `ticket_id`): read for a ticket whose status changed only.
   */
  private async lastChange(api: HaloPsaTicketApi, ticket: TaskTicketWire): Promise<{ actor: string; lastNote: string | null }> {
    const actions = (await api.actions(ticket.id)).sort((a, b) => (a.datetime ?? "").localeCompare(b.datetime ?? "") || a.id - b.id);
    const lastNote = actions.filter((a) => a.note.trim() !== "").at(-1)?.note ?? null;
    return { actor: `${TICKET_ACTOR_PREFIX}${changerOf(actions, ticket)}`, lastNote };
  }
}

/** The agent of the last action that set a status, else the ticket's agent; by name when the ticket names them. 0 is nobody. */
function changerOf(actions: readonly HaloAction[], ticket: TaskTicketWire): string {
  const id = actions.filter((a) => a.new_status != null).at(-1)?.who_agentid || ticket.agent_id || null;
  if (id === null) return "unknown agent";
  return id === ticket.agent_id && ticket.agent_name ? ticket.agent_name : `agent ${id}`;
}

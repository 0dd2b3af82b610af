/**
 * Outbound notifications: one JSON POST per event to a webhook when a task is raised or becomes
 * overdue. The body has a plain `text` line, which both Slack and Microsoft Teams incoming webhooks
 * display, plus structured fields for anything else. Every IdP- or reviewer-supplied value in `text`
 * is escaped for the chat's markup (./chat-markup.ts); the structured fields carry the values as they are. Messages go through a durable outbox and are
 * retried with backoff. Neither tokens nor the webhook URL (which carries its own secret) are ever
 * logged; the message names the task, never a credential.
 */
import type { Clock } from "../clock.js";
import type { ChangeSet } from "../db/approvals.js";
import type { Db } from "../db/database.js";
import type { NotificationOutbox } from "../db/notifications.js";
import { describeNetworkError, describeTimeout } from "../apps/http/network-error.js";
import { errorText } from "../domain/secret-scrubber.js";
import type { Task } from "../domain/task.js";
import type { Logger } from "../log.js";
import { chatFormatOf, escapeFor, type ChatFormat } from "./chat-markup.js";

export interface WebhookOptions {
  readonly url: string;
  readonly db: Db;
  readonly outbox: NotificationOutbox;
  readonly clock: Clock;
  readonly log: Logger;
  /** The bridge's one secret scrubber (it knows the webhook URL): a failure's text goes through it before it is stored or logged. */
  readonly scrub: (text: string) => string;
  /** Where reviewers open the queue, e.g. https://bridge.example.com/admin (linked in messages). */
  readonly queueUrl: string;
  /** Whose markup `text` is escaped for; by default the one the URL's host says (./chat-markup.ts). */
  readonly format?: ChatFormat;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
}

/**
 * Queues the "task raised" message without sending it: the CLI uses this, and the running
 * bridge's notifier delivers whatever the outbox holds on its next pass.
 */
export function queueTaskNotice(outbox: NotificationOutbox, task: Task, queueUrl: string, format: ChatFormat): void {
  const esc = escapeFor(format);
  const what = task.state === "blocked" ? `Blocked task for ${esc(task.app)}` : `New task for ${esc(task.app)}`;
  outbox.add("task.created", {
    text: `${what}: ${esc(task.title)} (due ${task.dueAt}). Review queue: ${queueUrl}`,
    event: "task.created",
    task: { id: task.id, app: task.app, title: task.title, state: task.state, dueAt: task.dueAt, reason: task.reason },
  });
}

/** Queues "a change waits for your approval" (inside the transaction that opened the change set). */
export function queueApprovalNotice(outbox: NotificationOutbox, set: ChangeSet, queueUrl: string): void {
  const what =
    set.kind === "deprovision-limit"
      ? `more than ${String(set.summary["limit"])} deactivations in ${set.app ?? "an app"} within ${String(set.summary["windowMinutes"])} minutes; the rest are held`
      : "a change of apps or rules would remove or downgrade access";
  outbox.add("approval.needed", {
    text: `Approval needed (change set ${set.id}): ${what}. Nothing destructive runs until an admin decides: ${queueUrl}/approvals`,
    event: "approval.needed",
    changeSet: { id: set.id, kind: set.kind, app: set.app },
  });
}

/** Where reviewers open the queue, linked in every message. */
export function queueUrlOf(config: { publicUrl?: string | undefined; port: number }): string {
  return `${config.publicUrl ?? `http://localhost:${config.port}`}/admin`;
}

export class WebhookNotifier {
  private timer: NodeJS.Timeout | undefined;
  private delivering: Promise<number> | undefined;

  private readonly format: ChatFormat;

  constructor(private readonly o: WebhookOptions) {
    this.format = o.format ?? chatFormatOf(o.url);
  }

  /** Queues "task raised" (inside the transaction that wrote the task) and sends it shortly. */
  taskRaised(task: Task): void {
    queueTaskNotice(this.o.outbox, task, this.o.queueUrl, this.format);
    setImmediate(() => void this.deliver());
  }

  /** Queues "approval needed" (inside the transaction that opened the change set) and sends it shortly. */
  approvalNeeded(set: ChangeSet): void {
    queueApprovalNotice(this.o.outbox, set, this.o.queueUrl);
    setImmediate(() => void this.deliver());
  }

  /** Queues one "overdue" message per open task that passed its due time since the last check. */
  checkOverdue(): number {
    const esc = escapeFor(this.format);
    const items = this.o.db.transaction(() => {
      const overdue = this.o.outbox.takeNewlyOverdue();
      for (const t of overdue) {
        this.o.outbox.add("task.overdue", {
          text: `Overdue task for ${esc(t.app)}: ${esc(t.title)} (was due ${t.dueAt}${t.assignee ? `, claimed by ${esc(t.assignee)}` : ""}). Review queue: ${this.o.queueUrl}`,
          event: "task.overdue",
          task: { id: t.id, app: t.app, title: t.title, dueAt: t.dueAt, assignee: t.assignee },
        });
      }
      return overdue.length;
    }).immediate();
    return items;
  }

  /** Sends what is due; concurrent calls share one pass. Returns how many were delivered. */
  deliver(): Promise<number> {
    this.delivering ??= this.deliverDue().finally(() => {
      this.delivering = undefined;
    });
    return this.delivering;
  }

  private async deliverDue(): Promise<number> {
    const fetchFn = this.o.fetch ?? fetch;
    const maxAttempts = this.o.maxAttempts ?? 8;
    const base = this.o.baseDelayMs ?? 5000;
    let delivered = 0;
    for (const m of this.o.outbox.due()) {
      try {
        const res = await fetchFn(this.o.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(m.payload),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        this.o.outbox.sent(m.id);
        delivered++;
      } catch (e: unknown) {
        const attempts = m.attempts + 1;
        const error = errorText(deliveryFailure(this.o.url, e, this.o.timeoutMs ?? 10_000), this.o.scrub);
        const next = attempts >= maxAttempts ? null : new Date(this.o.clock.now().getTime() + Math.min(3_600_000, base * 2 ** (attempts - 1)));
        this.o.outbox.failed(m.id, error, next);
        this.o.log.warn(next ? "webhook delivery failed; will retry" : "webhook delivery failed; giving up", { notificationId: m.id, kind: m.kind, attempts, error });
      }
    }
    return delivered;
  }

  /** Checks for overdue tasks and delivers pending messages every `intervalMs`. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.checkOverdue();
      void this.deliver();
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.delivering;
  }
}

/** A failed delivery in words: an answer's status as thrown above, or the host, port and cause of a failed connection. */
function deliveryFailure(url: string, e: unknown, timeoutMs: number): unknown {
  if (e instanceof Error && e.name === "TimeoutError") return new Error(describeTimeout(url, timeoutMs));
  if (e instanceof TypeError) return new Error(describeNetworkError(url, e).detail);
  return e;
}

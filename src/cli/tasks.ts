/**
 * `scim-bridge tasks list|show|done|fail|reopen`: the review queue from a terminal, with the same
 * semantics as the admin API and the web page (every outcome goes through TaskReview; the actor is
 * "cli"). Arguments are parsed once here with zod.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { taskView } from "../admin/tasks-api.js";
import { systemClock } from "../clock.js";
import { openStores, provisioningOf } from "../compose.js";
import { appsAndRules, loadConfig } from "../config.js";
import { openDatabase, type Db } from "../db/database.js";
import { NotificationOutbox } from "../db/notifications.js";
import type { IdentityMap } from "../db/identity-map.js";
import type { TaskStore } from "../db/tasks.js";
import type { Task } from "../domain/task.js";
import { createLogger } from "../log.js";
import type { TaskReview } from "../provisioning/task-review.js";
import { chatFormatOf } from "../notify/chat-markup.js";
import { queueTaskNotice, queueUrlOf } from "../notify/webhook.js";
import { isBridgeError } from "../errors.js";
import type { AppConfig } from "../provisioning/config-schema.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";
import { formatTask, formatTaskLine, formatCounts, TASK_LINE_HEADER } from "./task-text.js";

export const TASKS_USAGE = `  scim-bridge tasks list [--app <app>] [--state <open|blocked|done|failed|cancelled>] [--overdue] [--json]
  scim-bridge tasks show <id> [--json]
  scim-bridge tasks done <id> [--note <text>]
  scim-bridge tasks fail <id> --reason <text>
  scim-bridge tasks reopen <id>`;

/** The actor recorded for what is done from the command line. */
const ACTOR = "cli";

const id = z.string({ message: "a task id is required" }).regex(/^[1-9]\d{0,14}$/, "the task id must be a positive whole number").transform(Number);

const listArgs = z.object({
  app: z.string().min(1).optional(),
  state: z.enum(["open", "blocked", "done", "failed", "cancelled"], { message: "--state must be one of open, blocked, done, failed, cancelled" }).optional(),
  overdue: z.boolean().optional(),
  json: z.boolean().optional(),
});
const showArgs = z.object({ id, json: z.boolean().optional() });
const doneArgs = z.object({ id, note: z.string().trim().max(4000).optional() });
const failArgs = z.object({ id, reason: z.string({ message: "--reason is required to fail a task" }).trim().min(1, "--reason is required to fail a task").max(4000) });
const reopenArgs = z.object({ id });

const OPTIONS = {
  list: { app: { type: "string" }, state: { type: "string" }, overdue: { type: "boolean" }, json: { type: "boolean" } },
  show: { json: { type: "boolean" } },
  done: { note: { type: "string" } },
  fail: { reason: { type: "string" } },
  reopen: {},
} as const;

type Command = keyof typeof OPTIONS;
const isCommand = (c: string | undefined): c is Command => c !== undefined && Object.hasOwn(OPTIONS, c);

interface Queue {
  readonly db: Db;
  readonly tasks: TaskStore;
  readonly review: TaskReview;
  readonly apps: readonly AppConfig[];
  readonly accounts: Pick<IdentityMap, "get">;
}

/** Returns undefined for a command it does not know (the dispatcher prints the usage). */
export function tasksCommand(command: string | undefined, rest: readonly string[], out: Out, env: NodeJS.ProcessEnv): number | undefined {
  if (!isCommand(command)) return undefined;
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({ args: [...rest], options: OPTIONS[command], allowPositionals: command !== "list", strict: true });
    values = { ...parsed.values, id: parsed.positionals[0] };
    if (parsed.positionals.length > 1) throw new TypeError(`unexpected argument "${parsed.positionals[1]}"`);
  } catch (e: unknown) {
    if (!(e instanceof TypeError)) throw e;
    out(e.message);
    return EXIT_USAGE;
  }
  const config = loadConfig(env);
  const db = openDatabase(config.database);
  try {
    const { apps } = appsAndRules(config);
    const stores = openStores(config, db, systemClock);
    // With a webhook configured, a follow-up task (an invitation's confirm step) is queued in the outbox;
    // the running bridge delivers it.
    const outbox = config.notifications.webhookUrl ? new NotificationOutbox(db, systemClock) : undefined;
    const onTask = outbox ? (task: Task) => queueTaskNotice(outbox, task, queueUrlOf(config), chatFormatOf(config.notifications.webhookUrl, config.notifications.webhookFormat)) : undefined;
    const { review } = provisioningOf(config, stores, new Map(), createLogger("error"), { onTask });
    const tasks = stores.tasks;
    return run(command, values, { db, tasks, review, apps, accounts: stores.accounts }, out);
  } catch (e: unknown) {
    // Not found, or a state that does not allow it ("only open tasks can be completed"): say so.
    if (!isBridgeError(e)) throw e;
    out(`error: ${e.message}`);
    return e.code === "invalidValue" ? EXIT_USAGE : EXIT_REFUSED;
  } finally {
    db.close();
  }
}

function run(command: Command, values: Record<string, unknown>, q: Queue, out: Out): number {
  const now = () => systemClock.now();
  const parse = <S extends z.ZodType>(schema: S): z.output<S> | undefined => {
    const r = schema.safeParse(values);
    if (r.success) return r.data;
    out(r.error.issues.map((i) => i.message).join("\n"));
    return undefined;
  };
  switch (command) {
    case "list": {
      const a = parse(listArgs);
      if (!a) return EXIT_USAGE;
      const list = q.tasks.list({ app: a.app, state: a.state, overdue: a.overdue ? true : undefined });
      if (a.json) {
        out(JSON.stringify(list.map((t) => taskView(t, now())), null, 2));
        return EXIT_OK;
      }
      if (list.length > 0) out(TASK_LINE_HEADER);
      for (const t of list) out(formatTaskLine(t, now()));
      out(`${list.length} task(s).${formatCounts(q.tasks.counts(), q.apps)}`);
      return EXIT_OK;
    }
    case "show": {
      const a = parse(showArgs);
      if (!a) return EXIT_USAGE;
      const task = q.tasks.get(a.id);
      if (!task) {
        out(`error: task ${a.id} not found`);
        return EXIT_REFUSED;
      }
      if (a.json) out(JSON.stringify(taskView(task, now()), null, 2));
      else formatTask(task, now()).forEach((line) => out(line));
      return EXIT_OK;
    }
    case "done": {
      const a = parse(doneArgs);
      if (!a) return EXIT_USAGE;
      const task = q.review.complete(a.id, ACTOR, a.note ? a.note : null);
      out(`Task #${task.id} done: ${task.title}`);
      // As the web page's notice does: where the identity map now stands for this person in the app.
      const account = q.accounts.get(task.userId, task.app);
      if (account) out(`${task.app} now shows ${account.profile?.email ?? "the user"} as ${account.state}.`);
      // As the web page's notice does: the follow-up the completion raised (an invitation's confirm step), in full.
      const next = q.tasks.openFor(task.userId, task.app);
      if (next && next.id !== task.id) {
        out(`Next for this user: #${next.id} ${next.title} is in the queue.`);
        formatTask(next, now()).slice(1).forEach((line) => out(line));
      }
      return EXIT_OK;
    }
    case "fail": {
      const a = parse(failArgs);
      if (!a) return EXIT_USAGE;
      const task = q.review.fail(a.id, ACTOR, a.reason);
      out(`Task #${task.id} failed: ${task.reason ?? ""}. Reopen it with: scim-bridge tasks reopen ${task.id}`);
      return EXIT_OK;
    }
    case "reopen": {
      const a = parse(reopenArgs);
      if (!a) return EXIT_USAGE;
      const task = q.review.reopen(a.id, ACTOR);
      out(`Task #${task.id} is open again: ${task.title}`);
      return EXIT_OK;
    }
  }
}

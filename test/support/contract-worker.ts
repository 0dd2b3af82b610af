/**
 * The worker's side of the connector contract, on a real bridge database (SQLite file, the
 * bridge's own migrations): the identity map, task and audit stores, the TaskWriter that dedupes
 * task intents, the TaskReview a person completes tasks through, and the planner. A connector
 * call runs inside a DatabaseWatch, so whatever the connector does to any database is seen; the
 * worker's read-only views it hands the connector (ApplyContext) are the worker's own reads and
 * are not counted. Recording follows sync-user.ts and reconcile.ts: one transaction per outcome.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemClock } from "../../src/clock.js";
import { AuditLog } from "../../src/db/audit.js";
import { openDatabase, type Db } from "../../src/db/database.js";
import { IdentityMap } from "../../src/db/identity-map.js";
import { TaskStore } from "../../src/db/tasks.js";
import type { AccountProgress, ApplicableAction, ApplyContext, ApplyResult, Connector } from "../../src/domain/connector.js";
import type { Action, AppAccount, WantedAccess } from "../../src/domain/model.js";
import type { Task } from "../../src/domain/task.js";
import type { AppConfig } from "../../src/provisioning/config-schema.js";
import { planApp } from "../../src/provisioning/plan.js";
import { applyContext, outcomeOf } from "../../src/provisioning/sync-user.js";
import { TaskReview } from "../../src/provisioning/task-review.js";
import { TaskWriter } from "../../src/provisioning/task-writer.js";
import { DatabaseWatch } from "./database-watch.js";

/** What the worker knows when it runs an action: the recorded row, none (a crash lost it), or a row set up by a test. */
export type Known = "recorded" | "none" | AppAccount;

export class ContractWorker {
  readonly db: Db;
  readonly accounts: IdentityMap;
  readonly tasks: TaskStore;
  readonly watch: DatabaseWatch;
  /** Every database use seen during a connector call, across the worker's life. */
  readonly used: string[] = [];
  /** How many connector calls were watched (a watch that saw none proves nothing). */
  watchedCalls = 0;
  private readonly dir: string;
  private readonly taskWriter: TaskWriter;
  private readonly review: TaskReview;

  constructor(
    private readonly connector: Connector,
    apps: readonly AppConfig[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "scim-bridge-contract-"));
    this.db = openDatabase(join(this.dir, "bridge.db"));
    this.accounts = new IdentityMap(this.db, systemClock);
    this.tasks = new TaskStore(this.db, systemClock);
    this.taskWriter = new TaskWriter({ tasks: this.tasks, accounts: this.accounts, clock: systemClock, apps, rules: [], jobs: { enqueueUsers: () => undefined } });
    this.review = new TaskReview({
      db: this.db,
      tasks: this.tasks,
      accounts: this.accounts,
      audit: new AuditLog(this.db, systemClock),
      jobs: { enqueueUsers: () => undefined },
      apps,
      taskWriter: this.taskWriter,
      instances: new Map([[connector.app, connector.instance]]),
      readable: () => connector.readBack !== undefined,
    });
    this.watch = new DatabaseWatch(this.db);
  }

  row(userId: string): AppAccount | undefined {
    return this.accounts.get(userId, this.connector.app);
  }

  /** What the planner asks for next: `wanted` undefined withdraws access. */
  plan(userId: string, wanted: WantedAccess | undefined): Action | undefined {
    return planApp(userId, this.connector.app, wanted, this.row(userId), "not-granted");
  }

  /** Runs one action through the connector; records the outcome unless `record` is false (a crash before the record). */
  async run(action: ApplicableAction, o: { known?: Known; record?: boolean } = {}): Promise<ApplyResult> {
    const known = o.known ?? "recorded";
    const current = known === "none" ? undefined : known === "recorded" ? this.row(action.userId) : known;
    const result = await this.watched(() => this.connector.apply(action, this.context(action.userId, current)));
    if (o.record ?? true) this.record(action.userId, result, current);
    return result;
  }

  /** A reconcile pass's refresh, recorded as reconcile.ts records it (only rows it has not moved since). */
  async refresh(): Promise<AccountProgress[]> {
    const refresh = this.connector.refresh?.bind(this.connector);
    if (!refresh) return [];
    const seen = this.accounts.list({ app: this.connector.app });
    const progress = await this.watched(() => refresh(seen));
    for (const p of progress) {
      this.db
        .transaction(() => {
          this.accounts.record({ ...p.seen, externalId: p.externalId, state: p.state, role: p.role }, this.connector.instance);
          if (p.task) this.taskWriter.apply(this.connector.app, p.seen.userId, p.task, null);
        })
        .immediate();
    }
    return progress;
  }

  async readBack(): Promise<number> {
    const readBack = this.connector.readBack?.bind(this.connector);
    return readBack ? (await this.watched(readBack)).length : 0;
  }

  /** A row the identity map holds, set up by a test (an account the app may not have). */
  seed(account: AppAccount): void {
    this.accounts.record(account, this.connector.instance);
  }

  /** A person completes every task that is open for the user, follow-ups included (invite, then confirm). */
  completeTasks(userId: string): Task[] {
    const done: Task[] = [];
    for (let open = this.tasks.openFor(userId, this.connector.app); open; open = this.tasks.openFor(userId, this.connector.app)) {
      if (done.length > 5) throw new Error(`tasks keep coming for ${userId}: ${done.map((t) => t.action).join(", ")}`);
      done.push(this.review.complete(open.id, "reviewer@msp.example", null));
    }
    return done;
  }

  /** Every task ever raised for the user, superseded and done ones included. */
  tasksOf(userId: string): Task[] {
    return this.tasks.list({ userId, app: this.connector.app });
  }

  close(): void {
    this.watch.restore();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async watched<T>(call: () => Promise<T>): Promise<T> {
    this.watchedCalls++;
    const { value, used } = await this.watch.during(call);
    this.used.push(...used);
    return value;
  }

  /** sync-user.ts's ApplyContext, its views read by the worker (aside from the watch). */
  private context(userId: string, current: AppAccount | undefined): ApplyContext {
    const ctx = applyContext({ accounts: this.accounts }, this.connector.app, this.connector.instance, userId, "contract-req", current);
    return { ...ctx, ownerOf: (id) => this.watch.aside(() => ctx.ownerOf(id)), keepersOf: (role) => this.watch.aside(() => ctx.keepersOf(role)) };
  }

  private record(userId: string, result: ApplyResult, before: AppAccount | undefined): void {
    const outcome = outcomeOf({ userId, app: this.connector.app }, result, before);
    this.db
      .transaction(() => {
        if (result.task) this.taskWriter.apply(this.connector.app, userId, result.task, "contract-req");
        this.accounts.record(outcome, this.connector.instance);
      })
      .immediate();
  }
}

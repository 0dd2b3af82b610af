/**
 * The reconciler: on a timer and on demand, re-plans every user (through the job queue, the same
 * path as SCIM changes) and reads each app back to report drift. Enforcing drift is opt-in per app:
 * then agents no rule grants are deactivated, and accounts changed outside are re-asserted.
 * The same read-back first verifies the app's tasks (./task-verifier.ts): done tasks the app shows
 * are verified, the others reopen, and open tasks whose work the app already shows complete.
 */
import type { DriftStore } from "../db/drift.js";
import { errorText } from "../domain/secret-scrubber.js";
import { OwnershipConflict } from "../db/identity-map.js";
import type { JobQueue } from "../db/jobs.js";
import type { AccountProgress, Connector, RemoteAccount } from "../domain/connector.js";
import { matchingKey } from "../domain/folding.js";
import { findDrift, type FoundDrift, type GrantedUser } from "./drift.js";
import type { VerifyCounts } from "./task-verifier.js";

/** An app's accounts as one read-back saw them, or why it could not read them. */
type Read = { readonly ok: true; readonly accounts: RemoteAccount[] } | { readonly ok: false; readonly error: unknown };
import { wantedAccess } from "./rules.js";
import { applyContext, type ProvisioningDeps } from "./sync-user.js";

export interface ReconcileReport {
  readonly usersQueued: number;
  readonly drift: Record<string, { readonly items: number; readonly enforced: number; readonly error?: string }>;
  /** Apps whose connector can refresh (a huntress app): identity-map rows it moved forward. */
  readonly refreshed?: Record<string, { readonly changed: number; readonly error?: string }>;
  /** Apps with tasks whose accounts can be read: tasks verified, reopened, and found done by the read-back. */
  readonly verified?: Record<string, VerifyCounts>;
}

/** When the last pass ended and what it found, for the status page. */
export interface ReconcilePass {
  readonly endedAt: string;
  readonly report: ReconcileReport;
}

/** Users read per query while the drift report collects who is granted what (two queries a page, not two a user). */
const SNAPSHOT_PAGE = 500;

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;
  private last: ReconcilePass | undefined;

  constructor(
    private readonly deps: ProvisioningDeps,
    private readonly jobs: JobQueue,
    private readonly drift: DriftStore,
    /** Reads task tickets back (src/provisioning/ticket-sync.ts); never rejects. */
    private readonly readTickets?: () => Promise<void>,
  ) {}

  /** Runs every `intervalMs` (0 disables the timer); the first pass starts after one interval. */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => {
      void this.run("reconcile:timer").catch((e: unknown) => this.deps.log.error("reconcile failed", { error: e }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; concurrent callers share the pass already running. */
  run(requestId: string): Promise<ReconcileReport> {
    this.running ??= this.pass(requestId)
      .then((report) => {
        this.last = { endedAt: this.deps.clock.now().toISOString(), report };
        return report;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /**
   * The last pass of this process, undefined before the first. Kept in memory: the drift items
   * themselves survive a restart (drift_items), the pass's counts and read-back errors need not.
   */
  lastPass(): ReconcilePass | undefined {
    return this.last;
  }

  private async pass(requestId: string): Promise<ReconcileReport> {
    const { deps } = this;
    // Each app is read back once: tasks are verified first (an open task found done there completes
    // as such, before refresh() withdraws it as no longer needed), then the drift report uses it.
    const readBack = await this.readBack();
    const verified = this.verify(readBack, requestId);
    // Then what the apps can tell (an invitation accepted), so the plans queued below start from it.
    const refreshed = await this.refresh(requestId);
    // Tickets closed in HaloPSA complete their tasks before the plans below are made.
    await this.readTickets?.();
    const directoryIds = deps.directory.userIds();
    const userIds = [...new Set([...directoryIds, ...deps.accounts.userIds()])];
    deps.db.transaction(() => this.jobs.enqueueSweep(userIds, requestId)).immediate();

    // Read without yielding: who is granted and the links read below must be one moment's view, or a
    // user provisioned meanwhile would look like an account nobody granted (and enforcement would remove it).
    const grantedByApp = new Map<string, Map<string, GrantedUser>>();
    for (const page of deps.directory.snapshotPages(SNAPSHOT_PAGE)) {
      for (const { user, groups } of page) {
        for (const w of wantedAccess(user, groups, deps.apps, deps.rules)) {
          const byEmail = grantedByApp.get(w.app) ?? new Map<string, GrantedUser>();
          byEmail.set(matchingKey(w.profile.email), { userId: user.id, role: w.role });
          grantedByApp.set(w.app, byEmail);
        }
      }
    }

    const drift: Record<string, { items: number; enforced: number; error?: string }> = {};
    for (const app of deps.apps) {
      const connector = deps.connectors.get(app.name);
      const read = readBack.get(app.name);
      if (!connector || !read) continue;
      try {
        if (!read.ok) throw read.error;
        const remote = read.accounts;
        const links = deps.accounts.list({ app: app.name }).filter((a) => a.instance === connector.instance);
        const items = findDrift(remote, links, grantedByApp.get(app.name) ?? new Map(), (userId) => deps.directory.snapshot(userId).user?.userName ?? null);
        this.drift.replace(app.name, items);
        const enforced = app.enforceDrift ? await this.enforce(app.name, items, requestId) : 0;
        drift[app.name] = { items: items.length, enforced };
        const byKind = Object.fromEntries([...new Set(items.map((i) => i.kind))].map((k) => [k, items.filter((i) => i.kind === k).length]));
        deps.log[items.length > 0 ? "warn" : "info"]("drift report", { requestId, app: app.name, items: items.length, byKind, enforced });
      } catch (e: unknown) {
        const message = errorText(e, deps.scrub);
        drift[app.name] = { items: 0, enforced: 0, error: message };
        this.drift.recordFailure(app.name, message);
        deps.log.error("drift read-back failed", { requestId, app: app.name, error: message });
      }
    }
    return {
      usersQueued: userIds.length,
      drift,
      ...(Object.keys(refreshed).length > 0 ? { refreshed } : {}),
      ...(Object.keys(verified).length > 0 ? { verified } : {}),
    };
  }

  /** Every app that can be read, read once; a failure is kept for the drift report. */
  private async readBack(): Promise<Map<string, Read>> {
    const out = new Map<string, Read>();
    for (const app of this.deps.apps) {
      const connector = this.deps.connectors.get(app.name);
      if (!connector?.readBack) continue;
      try {
        out.set(app.name, { ok: true, accounts: await connector.readBack() });
      } catch (e: unknown) {
        out.set(app.name, { ok: false, error: e });
      }
    }
    return out;
  }

  /** Verifies each readable app's tasks against its read-back; an app that could not be read keeps its tasks as they are. */
  private verify(readBack: ReadonlyMap<string, Read>, requestId: string): Record<string, VerifyCounts> {
    const out: Record<string, VerifyCounts> = {};
    const { verifier } = this.deps;
    if (!verifier) return out;
    for (const [app, read] of readBack) {
      if (!read.ok) continue;
      const counts = verifier.verifyApp(app, read.accounts, requestId);
      if (counts.verified + counts.reopened + counts.found > 0) out[app] = counts;
    }
    return out;
  }

  /** Lets each connector that can read progress back record it; one app failing does not stop the others. */
  private async refresh(requestId: string): Promise<Record<string, { changed: number; error?: string }>> {
    const { deps } = this;
    const out: Record<string, { changed: number; error?: string }> = {};
    for (const app of deps.apps) {
      const connector = deps.connectors.get(app.name);
      if (!connector?.refresh) continue;
      try {
        const seen = deps.accounts.list({ app: app.name }).filter((a) => a.instance === connector.instance);
        out[app.name] = { changed: this.recordProgress(connector, await connector.refresh(seen), requestId) };
        if (out[app.name]!.changed > 0) deps.log.info("refreshed from the app", { requestId, app: app.name, changed: out[app.name]!.changed });
      } catch (e: unknown) {
        const message = errorText(e, deps.scrub);
        out[app.name] = { changed: 0, error: message };
        deps.log.error("refresh from the app failed", { requestId, app: app.name, error: message });
      }
    }
    return out;
  }

  /**
   * Records what an app showed, each account in its own transaction with its task intent and audit
   * events, and only if the worker has not moved the row meanwhile (it is then left for the next pass).
   */
  private recordProgress(connector: Connector, progress: readonly AccountProgress[], requestId: string): number {
    const { deps } = this;
    let changed = 0;
    for (const p of progress) {
      const { seen } = p;
      try {
        const moved = deps.db
          .transaction(() => {
            const now = deps.accounts.get(seen.userId, seen.app);
            if (!now || now.state !== seen.state || now.externalId !== seen.externalId || now.role !== seen.role || now.releasedAt !== null) return false;
            const after = { ...now, externalId: p.externalId, state: p.state, role: p.role };
            deps.accounts.record(after, connector.instance);
            const taskEvents = p.task ? deps.taskWriter.apply(seen.app, seen.userId, p.task, requestId) : [];
            for (const e of [...p.events, ...taskEvents]) {
              deps.audit.append({ actor: "reconciler", requestId, action: e.action, resourceType: "AppAccount", resourceId: `${seen.userId}/${seen.app}`, before: now, after: { ...after, ...e.detail } });
            }
            return true;
          })
          .immediate();
        if (moved) changed++;
      } catch (e: unknown) {
        if (!(e instanceof OwnershipConflict)) throw e;
        deps.log.warn("refresh from the app: not recorded, the account belongs to another user", { requestId, app: seen.app, userId: seen.userId, error: e.message });
      }
    }
    return changed;
  }

  /**
   * Orphans and accounts enabled outside are deactivated (never deleted). Accounts disabled or
   * changed outside are marked so the next plan re-asserts them; the re-plan is already queued.
   */
  private async enforce(app: string, items: readonly FoundDrift[], requestId: string): Promise<number> {
    const { deps } = this;
    const connector = deps.connectors.get(app)!;
    let enforced = 0;
    for (const item of items) {
      if ((item.kind === "orphan" || item.kind === "enabled-outside") && item.externalId) {
        if (deps.guard && !deps.guard.admitDriftDeactivation(app, item.externalId, requestId)) continue;
        await connector.apply(
          { kind: "deactivate", app, userId: item.userId ?? "", externalId: item.externalId, reason: "not-granted", profile: null },
          applyContext(deps, app, connector.instance, item.userId ?? "", requestId),
        );
        deps.audit.append({ actor: "reconciler", requestId, action: "drift.deactivate", resourceType: "AppAccount", resourceId: `${item.userId ?? "unmapped"}/${app}`, after: item });
        enforced++;
      } else if ((item.kind === "disabled-outside" || item.kind === "changed-outside" || item.kind === "missing") && item.userId) {
        const account = deps.accounts.get(item.userId, app);
        if (!account) continue;
        deps.db.transaction(() => {
          // Forget what we believed was written: "missing" drops the id (plan creates anew), the others
          // mark the account so the plan re-sends everything to the same account.
          deps.accounts.record({ ...account, state: item.kind === "missing" ? "removed" : "error", externalId: item.kind === "missing" ? null : account.externalId, profile: null }, account.instance);
          deps.audit.append({ actor: "reconciler", requestId, action: "drift.reassert", resourceType: "AppAccount", resourceId: `${item.userId}/${app}`, after: item });
          this.jobs.enqueueUsers([item.userId!], requestId);
        }).immediate();
        enforced++;
      }
    }
    return enforced;
  }
}

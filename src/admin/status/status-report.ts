/**
 * The bridge seen whole, for GET /admin/api/status and the /admin/status page: where the IdP
 * connects, whether it has called lately, whether each app answers, the last drift pass, the job
 * queue and what waits for an admin. One value, built from the stores; the page renders it.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ApprovalStore } from "../../db/approvals.js";
import type { DriftStore } from "../../db/drift.js";
import type { JobQueue } from "../../db/jobs.js";
import { tokenState, TokenStore, type TokenState } from "../../db/tokens.js";
import type { Reconciler } from "../../provisioning/reconcile.js";
import type { ProvisioningDeps } from "../../provisioning/sync-user.js";
import type { ScimCaller, ScimCallers } from "../../http/scim-callers.js";
import type { AppCheckView, AppChecks } from "../../provisioning/app-checks.js";
import type { TicketSync, TicketSyncStatus } from "../../provisioning/ticket-sync.js";

export interface StatusReport {
  readonly version: string;
  readonly scimBaseUrl: string;
  /** SCIM tokens that still work, with the last request each made (to the minute: auth/tokens.ts). */
  readonly scimTokens: readonly { readonly id: number; readonly name: string; readonly state: TokenState; readonly lastUsedAt: string | null }[];
  /** Every token that called SCIM since the bridge started (environment tokens too): the last request and the IdP's User-Agent. */
  readonly scimCallers: readonly ScimCaller[];
  readonly apps: readonly {
    readonly name: string;
    readonly type: string;
    readonly instance: string;
    readonly check: AppCheckView;
    /** The last drift pass over the app (db/drift.ts, kept across restarts); null when it was never checked. */
    readonly drift: { readonly checkedAt: string; readonly items: number; readonly error: string | null } | null;
  }[];
  /** The last reconcile pass of this process; null before the first. */
  readonly reconcile: { readonly endedAt: string; readonly usersQueued: number } | null;
  readonly worker: { readonly running: boolean };
  readonly queue: { readonly queued: number; readonly running: number; readonly dead: number; readonly oldestAgeMs: number | null };
  readonly approvals: { readonly pending: number; readonly waiting: number };
  /** Tasks as HaloPSA tickets: the last read, what waits in the outbox, the last error; absent when no app has tickets. */
  readonly tickets?: TicketSyncStatus;
}

export interface StatusSources {
  readonly provisioning: ProvisioningDeps;
  readonly jobs: Pick<JobQueue, "depth">;
  readonly approvals: Pick<ApprovalStore, "list">;
  readonly reconciler: Pick<Reconciler, "lastPass">;
  readonly drift: Pick<DriftStore, "lastPass" | "counts">;
  /** The bridge's periodic app checks (provisioning/app-checks.ts), refreshed when older than a minute. */
  readonly checks: Pick<AppChecks, "refresh" | "view">;
  readonly callers: Pick<ScimCallers, "latest">;
  /** Whether the provisioning worker runs (readiness); true where no readiness is wired. */
  readonly workerRunning: () => boolean;
  /** The HaloPSA ticket sync, when any task app has `tickets.halopsa`. */
  readonly tickets?: Pick<TicketSync, "status"> | undefined;
  readonly publicUrl: string | undefined;
  readonly version: string;
}

/** The version in package.json, found by walking up from this module (src/ or dist/src/). */
export function packageVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "scim-bridge" && typeof pkg.version === "string") return pkg.version;
    }
    if (dirname(dir) === dir) return "unknown";
  }
}

/** `requestOrigin` (scheme and host of the request) stands in when no public URL is configured, as SCIM's own URLs do. */
export async function statusReport(s: StatusSources, requestOrigin: string): Promise<StatusReport> {
  const deps = s.provisioning;
  const now = deps.clock.now();
  const last = s.reconciler.lastPass();
  await s.checks.refresh(60_000);
  const pending = s.approvals.list();
  return {
    version: s.version,
    scimBaseUrl: `${s.publicUrl ?? requestOrigin}/scim/v2`,
    scimTokens: new TokenStore(deps.db, deps.clock)
      .list()
      .filter((t) => t.scope === "scim")
      .map((t) => ({ id: t.id, name: t.name, state: tokenState(t, now), lastUsedAt: t.lastUsedAt }))
      .filter((t) => t.state === "active" || t.state === "expiring"),
    scimCallers: s.callers.latest(),
    apps: deps.apps.map((a) => {
      const pass = s.drift.lastPass(a.name);
      const items = Object.values(s.drift.counts()[a.name] ?? {}).reduce((n, k) => n + k, 0);
      return {
        name: a.name,
        type: a.type,
        instance: deps.connectors.get(a.name)?.instance ?? a.name,
        check: s.checks.view(a.name),
        drift: pass ? { checkedAt: pass.at, items, error: pass.error } : null,
      };
    }),
    reconcile: last ? { endedAt: last.endedAt, usersQueued: last.report.usersQueued } : null,
    worker: { running: s.workerRunning() },
    queue: s.jobs.depth(),
    approvals: { pending: pending.length, waiting: pending.reduce((n, set) => n + set.waiting, 0) },
    ...(s.tickets ? { tickets: s.tickets.status() } : {}),
  };
}

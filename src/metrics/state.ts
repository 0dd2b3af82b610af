/**
 * Metrics read from the database (and from in-memory counters kept elsewhere) when Prometheus
 * scrapes, not kept up to date on every change: the queue, tasks and drift live in SQLite and
 * survive restarts, so one cheap aggregate query per metric at scrape time is both exact and free
 * on the request path.
 */
import { Counter, Gauge, type Metric, type Registry } from "prom-client";
import type { ApprovalStore } from "../db/approvals.js";
import type { DriftStore } from "../db/drift.js";
import type { JobQueue } from "../db/jobs.js";
import type { TaskStore } from "../db/tasks.js";
import type { RemovalHistogram } from "../provisioning/removals.js";
import { METRIC_PREFIX } from "./bridge-metrics.js";

export interface StateSources {
  readonly jobs: Pick<JobQueue, "depth">;
  readonly tasks: Pick<TaskStore, "counts">;
  readonly drift: Pick<DriftStore, "counts">;
  /** Destructive actions waiting for an admin (docs/provisioning.md, "Approvals"). */
  readonly approvals: Pick<ApprovalStore, "waitingByApp">;
  /** The configured apps: each shows its task gauges, at 0 when nothing is open, so an alert has a series to watch. */
  readonly apps: readonly string[];
  /** Failed authentications so far, by reason (src/auth/failures.ts). */
  readonly authFailures?: { snapshot(): Readonly<Record<string, number>> };
  /** Requests refused by the request rate limits so far, by limit (src/http/rate-limit.ts). */
  readonly requestLimits?: { refusals(): readonly { readonly kind: string; readonly count: number }[] };
  /** Completed removals of access and how long each took (src/provisioning/removals.ts). */
  readonly deprovisions?: { byApp(): ReadonlyMap<string, RemovalHistogram> };
  /** The latest app checks (src/provisioning/app-checks.ts): reachable with the configured credentials or not. */
  readonly appChecks?: { latest(): ReadonlyMap<string, { readonly ok: boolean }> };
}

/**
 * An API deactivation takes seconds, a manual removal hours to days (a Huntress task's SLA is 24 h
 * by default): 1 and 5 minutes, a quarter, half an hour, 1, 2, 4 and 8 hours, 1, 2 and 7 days.
 */
export const DEPROVISION_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800];

/** Registers the scrape-time metrics of `sources` on `registry`. */
export function registerStateMetrics(registry: Registry, sources: StateSources): void {
  const registers = [registry];
  const { jobs, tasks, drift, apps } = sources;

  new Gauge({
    name: `${METRIC_PREFIX}jobs`,
    help: "Provisioning jobs not yet done, by state: queued (ready or backing off) or running",
    labelNames: ["state"],
    registers,
    collect() {
      const d = jobs.depth();
      this.set({ state: "queued" }, d.queued);
      this.set({ state: "running" }, d.running);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}jobs_oldest_age_seconds`,
    help: "Age of the oldest provisioning job not yet done, since it was first queued; 0 when none",
    registers,
    collect() {
      this.set((jobs.depth().oldestAgeMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}jobs_dead_letters`,
    help: "Provisioning jobs that ran out of attempts or failed permanently, waiting for an admin (POST /admin/api/jobs/{id}/retry)",
    registers,
    collect() {
      this.set(jobs.depth().dead);
    },
  });

  // Reset before each reading: an app removed from the config, or a drift kind no longer found,
  // must drop out rather than repeat its last value.
  const perApp = (name: string, help: string, pick: (c: { open: number; blocked: number; overdue: number }) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames: ["app"],
      registers,
      collect() {
        this.reset();
        const counts = tasks.counts();
        for (const app of new Set([...apps, ...Object.keys(counts)])) this.set({ app }, pick(counts[app] ?? { open: 0, blocked: 0, overdue: 0 }));
      },
    });
  perApp("tasks_open", "Manual tasks open (not blocked), per app", (c) => c.open);
  perApp("tasks_overdue", "Open manual tasks past their due time, per app", (c) => c.overdue);
  perApp("tasks_blocked", "Manual tasks blocked on someone else, per app", (c) => c.blocked);

  new Gauge({
    name: `${METRIC_PREFIX}drift_items`,
    help: "Differences the last reconcile found between an app and the directory, per app and kind",
    labelNames: ["app", "kind"],
    registers,
    collect() {
      this.reset();
      for (const [app, kinds] of Object.entries(drift.counts())) {
        for (const [kind, n] of Object.entries(kinds)) this.set({ app, kind }, n);
      }
    },
  });

  const appChecks = sources.appChecks;
  if (appChecks) {
    new Gauge({
      name: `${METRIC_PREFIX}app_reachable`,
      help: "1 when the app's last check reached it and it accepted the configured credentials, 0 when it did not; apps without an API have no series",
      labelNames: ["app"],
      registers,
      collect() {
        this.reset();
        for (const [app, c] of appChecks.latest()) this.set({ app }, c.ok ? 1 : 0);
      },
    });
  }

  new Gauge({
    name: `${METRIC_PREFIX}held_deprovisions`,
    help: "Destructive actions (deactivate, remove, downgrade) waiting for an admin's approval, per app",
    labelNames: ["app"],
    registers,
    collect() {
      // Every configured app has a series (0 when nothing waits), so an alert has something to watch.
      const waiting = sources.approvals.waitingByApp();
      for (const app of new Set([...apps, ...waiting.keys()])) this.set({ app }, waiting.get(app) ?? 0);
    },
  });

  const { authFailures } = sources;
  if (authFailures) {
    new Counter({
      name: `${METRIC_PREFIX}auth_failures_total`,
      help: "Requests refused for their bearer token, by reason (missing, malformed, unknown, revoked, expired, wrong_scope)",
      labelNames: ["reason"],
      registers,
      collect() {
        // The count lives in src/auth/failures.ts and only ever grows, so copying it keeps counter semantics.
        this.reset();
        for (const [reason, n] of Object.entries(authFailures.snapshot())) this.inc({ reason }, n);
      },
    });
  }
  const { requestLimits } = sources;
  if (requestLimits) {
    new Counter({
      name: `${METRIC_PREFIX}http_rate_limited_total`,
      help: "Requests refused with 429 by the request rate limits, by limit: address (per source address) or token (per token)",
      labelNames: ["limit"],
      registers,
      collect() {
        this.reset();
        for (const { kind, count } of requestLimits.refusals()) this.inc({ limit: kind }, count);
      },
    });
  }

  const { deprovisions } = sources;
  if (deprovisions) {
    // Written from the removals' bucket counts (removals.ts keeps nothing else between reads):
    // prom-client's Histogram only takes one observation at a time, which would mean keeping every
    // removal's duration ever made in memory to replay them at each scrape.
    const name = `${METRIC_PREFIX}deprovision_seconds`;
    const help = "Time from the IdP request that took access away to the access gone in the app, per app, over every removal the audit log holds (docs/offboarding-evidence.md)";
    const metric = {
      name,
      help,
      type: "histogram",
      aggregator: "sum",
      reset: () => undefined,
      get: () => {
        const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
        for (const [app, h] of deprovisions.byApp()) {
          DEPROVISION_BUCKETS.forEach((bound, i) => values.push({ metricName: `${name}_bucket`, labels: { le: bound, app }, value: h.cumulative[i]! }));
          values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", app }, value: h.count });
          values.push({ metricName: `${name}_sum`, labels: { app }, value: h.sum });
          values.push({ metricName: `${name}_count`, labels: { app }, value: h.count });
        }
        return Promise.resolve({ name, help, type: "histogram", aggregator: "sum", values });
      },
    };
    // The registry reads a metric only through name, get() and reset(): a plain object serves.
    for (const r of registers) r.registerMetric(metric as unknown as Metric);
  }
}

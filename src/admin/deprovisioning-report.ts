/**
 * The deprovisioning report (docs/offboarding-evidence.md): per app and overall, how long access
 * took to go after the IdP took it away, over the removals requested in a period, and everyone
 * still waiting now. Percentiles are nearest-rank: the p-th percentile of n sorted durations is
 * the one at rank ceil(p/100 × n), so every figure is a duration that really happened.
 */
import type { Clock } from "../clock.js";
import { EvidenceReader } from "../db/evidence.js";
import type { Db } from "../db/database.js";
import { BridgeError } from "../errors.js";
import { csvLine } from "./users-csv.js";
import { removals, type Removal, type WaitingOn } from "../provisioning/removals.js";

export interface DurationStats {
  readonly removals: number;
  readonly p50Seconds: number | null;
  readonly p90Seconds: number | null;
  readonly maxSeconds: number | null;
}

export type ReportedRemoval = Removal & { readonly userName: string | null };

export interface DeprovisioningReport {
  readonly generatedAt: string;
  readonly since: string;
  readonly until: string;
  readonly percentileMethod: "nearest-rank";
  /** Removals requested in the period whose access is gone. */
  readonly overall: DurationStats;
  readonly apps: readonly (DurationStats & { readonly app: string })[];
  /** Every removal requested in the period, done or not, oldest first. */
  readonly removals: readonly ReportedRemoval[];
  /** Everyone whose access is wanted gone but is still there now, whenever it was requested; oldest first. */
  readonly waiting: readonly (ReportedRemoval & { readonly waitingOn: WaitingOn; readonly waitingSeconds: number })[];
}

/** The default period: the last 30 days. */
export const DEFAULT_PERIOD_DAYS = 30;

/** The value at rank ceil(p/100 × n) of ascending `sorted` (nearest-rank); null for none. */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function stats(done: readonly Removal[]): DurationStats {
  const sorted = done.map((r) => r.seconds!).sort((a, b) => a - b);
  return { removals: sorted.length, p50Seconds: nearestRank(sorted, 50), p90Seconds: nearestRank(sorted, 90), maxSeconds: sorted.at(-1) ?? null };
}

export function deprovisioningReport(db: Db, clock: Clock, period: { since?: string | undefined; until?: string | undefined }): DeprovisioningReport {
  const now = clock.now();
  const until = period.until ?? now.toISOString();
  const since = period.since ?? new Date(Date.parse(until) - DEFAULT_PERIOD_DAYS * 86_400_000).toISOString();
  if (since >= until) throw new BridgeError("invalidValue", `since (${since}) must be before until (${until})`);
  const reader = new EvidenceReader(db);
  const all = removals(reader);
  const names = reader.userNames(all.map((r) => r.userId));
  const named = (r: Removal): ReportedRemoval => ({ ...r, userName: names.get(r.userId) ?? null });
  const inPeriod = all.filter((r) => r.requestedAt >= since && r.requestedAt < until).map(named);
  const done = inPeriod.filter((r) => r.seconds !== null);
  const apps = [...new Set(done.map((r) => r.app))].sort().map((app) => ({ app, ...stats(done.filter((r) => r.app === app)) }));
  const waiting = all
    .filter((r) => r.goneAt === null)
    .map((r) => ({ ...named(r), waitingOn: r.waitingOn!, waitingSeconds: Math.max(0, (now.getTime() - Date.parse(r.requestedAt)) / 1000) }));
  return { generatedAt: now.toISOString(), since, until, percentileMethod: "nearest-rank", overall: stats(done), apps, removals: inPeriod, waiting };
}

const CSV_COLUMNS = ["user_id", "user_name", "app", "request_id", "requested_at", "gone_at", "seconds", "gone_by", "how", "waiting_on"] as const;

function waitingText(w: WaitingOn | null): string | null {
  if (w === null) return null;
  if (w.kind === "task") return `task #${w.taskId} (${w.state}): ${w.title}`;
  if (w.kind === "approval") return "approval";
  return `retrying job: ${w.error}`;
}

/** One row per removal requested in the period; gone_at and seconds empty while it waits. */
export function deprovisioningCsv(report: DeprovisioningReport): string {
  const rows = report.removals.map((r) => csvLine([r.userId, r.userName, r.app, r.requestId, r.requestedAt, r.goneAt, r.seconds, r.goneBy, r.how, waitingText(r.waitingOn)]));
  return csvLine(CSV_COLUMNS) + rows.join("");
}

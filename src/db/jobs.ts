/**
 * The durable job queue: one row per user with provisioning work pending. A job row is its own
 * state machine:
 * - enqueue collapses duplicates (one key per user) and, if the job is running, marks it to run
 *   again so a change made during a run is never lost;
 * - claim counts the attempt and takes a lease in the same statement, so a crash still counts;
 * - only the lease owner can complete, fail or extend it; an expired lease is taken over;
 * - failure backs off exponentially with jitter; after max_attempts the job is dead-lettered.
 */
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export interface Job {
  readonly id: number;
  readonly key: string;
  readonly userId: string;
  readonly requestId: string | null;
  readonly runAt: string;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly lockedBy: string | null;
  readonly lockedUntil: string | null;
  readonly dead: boolean;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface RawJob {
  id: number;
  key: string;
  user_id: string;
  request_id: string | null;
  run_at: string;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: string | null;
  rerun: number;
  dead: number;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const toJob = (r: RawJob): Job => ({
  id: r.id,
  key: r.key,
  userId: r.user_id,
  requestId: r.request_id,
  runAt: r.run_at,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  lockedBy: r.locked_by,
  lockedUntil: r.locked_until,
  dead: r.dead === 1,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface JobQueueOptions {
  readonly maxAttempts: number;
  /** First retry delay; each further attempt doubles it, up to maxDelayMs. */
  readonly backoffBaseMs: number;
  readonly maxDelayMs: number;
  /** Source of jitter in [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
}

export function userJobKey(userId: string): string {
  return `user:${userId}`;
}

export class JobQueue {
  private readonly upsert;
  private readonly claimOne;
  private readonly nextFree;
  private readonly nextLeased;
  private readonly readyUpTo;
  private readonly random: () => number;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly options: JobQueueOptions,
  ) {
    this.random = options.random ?? Math.random;
    this.upsert = db.prepare(
      `INSERT INTO jobs (key, user_id, request_id, run_at, max_attempts, sweep, created_at, updated_at)
       VALUES (@key, @userId, @requestId, @now, @maxAttempts, @sweep, @now, @now)
       ON CONFLICT (key) DO UPDATE SET
         request_id = excluded.request_id,
         -- a change from the IdP takes a queued sweep job out of the sweep (it goes ahead of it)
         sweep = min(jobs.sweep, excluded.sweep),
         -- a fresh change runs now, even if an earlier failure scheduled a retry later
         run_at = min(jobs.run_at, excluded.run_at),
         -- running right now: it may have read the old state, so run once more when it ends
         rerun = CASE WHEN jobs.locked_until > @now THEN 1 ELSE jobs.rerun END,
         -- a dead-lettered job comes back to life with a fresh budget on a new change
         attempts = CASE WHEN jobs.dead = 1 THEN 0 ELSE jobs.attempts END,
         dead = 0,
         updated_at = @now`,
    );
    this.claimOne = db.prepare(
      `UPDATE jobs SET attempts = attempts + 1, locked_by = @worker, locked_until = @until, rerun = 0, updated_at = @now
       WHERE id = (
         SELECT id FROM jobs
         WHERE dead = 0 AND run_at <= @now AND (locked_until IS NULL OR locked_until <= @now)
         ORDER BY sweep, run_at, id LIMIT 1
       )
       RETURNING *`,
    );
    // jobs_ready (dead, sweep, run_at) in order: the first job nobody holds, in or out of a sweep.
    const firstFree = (sweep: 0 | 1) => `SELECT run_at FROM jobs WHERE dead = 0 AND sweep = ${sweep} AND locked_until IS NULL ORDER BY run_at LIMIT 1`;
    this.nextFree = db.prepare(`SELECT min(run_at) FROM (SELECT * FROM (${firstFree(0)}) UNION ALL SELECT * FROM (${firstFree(1)}))`).pluck();
    // jobs_leased (migration 15) holds only the leased rows: a batch's worth at most. `+dead` keeps
    // SQLite from preferring jobs_ready, which would walk every queued job.
    this.nextLeased = db.prepare("SELECT min(max(run_at, locked_until)) FROM jobs WHERE locked_until IS NOT NULL AND +dead = 0").pluck();
    this.readyUpTo = db
      .prepare("SELECT count(*) FROM (SELECT 1 FROM jobs WHERE dead = 0 AND run_at <= ? AND (locked_until IS NULL OR locked_until <= ?) LIMIT ?)")
      .pluck();
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  /**
   * Queues a provisioning pass for each user; call inside the transaction of the change that caused
   * it. Listeners (the worker) are told on the next turn of the event loop, when that synchronous
   * transaction has committed.
   */
  enqueueUsers(userIds: Iterable<string>, requestId: string | null): void {
    this.enqueue(userIds, requestId, 0);
  }

  /**
   * Queues a pass for every user of a sweep (a reconcile pass, the CLI's reconcile, changed rules).
   * The worker takes every other job first: an IdP's change (a leaver above all) never waits behind
   * a sweep of the whole directory.
   */
  enqueueSweep(userIds: Iterable<string>, requestId: string | null): void {
    this.enqueue(userIds, requestId, 1);
  }

  private enqueue(userIds: Iterable<string>, requestId: string | null, sweep: 0 | 1): void {
    const now = this.now();
    let queued = 0;
    for (const userId of new Set(userIds)) {
      this.upsert.run({ key: userJobKey(userId), userId, requestId, now, maxAttempts: this.options.maxAttempts, sweep });
      queued++;
    }
    if (queued > 0) this.notify();
  }

  /** Tells listeners on the next turn of the event loop, when the caller's transaction has committed. */
  private notify(): void {
    if (this.listeners.length > 0) setImmediate(() => this.listeners.forEach((l) => l()));
  }

  /** Called after jobs are queued, so an idle worker wakes at once instead of at its next poll. */
  subscribe(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Claims the next ready job for `worker` with a lease of `leaseMs`, or undefined. */
  claim(worker: string, leaseMs: number): Job | undefined {
    const now = this.clock.now();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    return this.db.transaction(() => {
      const r = this.claimOne.get({ worker, until, now: now.toISOString() }) as RawJob | undefined;
      return r && toJob(r);
    }).immediate();
  }

  /** Keeps a long job's lease alive. False when the lease was lost (another worker took it over). */
  extendLease(job: Job, worker: string, leaseMs: number): boolean {
    const until = new Date(this.clock.now().getTime() + leaseMs).toISOString();
    return this.db.prepare("UPDATE jobs SET locked_until = ? WHERE id = ? AND locked_by = ?").run(until, job.id, worker).changes > 0;
  }

  /** Done: delete the job, unless a change arrived meanwhile, then make it ready again. */
  complete(job: Job, worker: string): void {
    const now = this.now();
    this.db.transaction(() => {
      const again = this.db
        .prepare(
          `UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, rerun = 0, run_at = ?, last_error = NULL, updated_at = ?
           WHERE id = ? AND locked_by = ? AND rerun = 1`,
        )
        .run(now, now, job.id, worker).changes;
      if (again === 0) this.db.prepare("DELETE FROM jobs WHERE id = ? AND locked_by = ?").run(job.id, worker);
    }).immediate();
  }

  /**
   * Failed: retry later with exponential backoff and jitter, or dead-letter after max_attempts
   * (at once when the failure is `permanent`: retrying cannot help until someone fixes something).
   */
  fail(job: Job, worker: string, error: string, options: { permanent?: boolean; notBeforeMs?: number } = {}): "retry" | "dead" {
    const now = this.clock.now();
    const dead = options.permanent === true || job.attempts >= job.maxAttempts;
    const runAt = dead ? now : new Date(now.getTime() + Math.max(this.delayMs(job.attempts), options.notBeforeMs ?? 0));
    this.db
      .prepare(
        `UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = ?, dead = ?, run_at = ?, rerun = 0, updated_at = ?
         WHERE id = ? AND locked_by = ?`,
      )
      .run(error, dead ? 1 : 0, runAt.toISOString(), now.toISOString(), job.id, worker);
    return dead ? "dead" : "retry";
  }

  /**
   * Gives a lease back when the job did nothing wrong: the database failed (a full disk, a lock
   * held elsewhere) or it waits for something outside it (an earlier create to settle). Ready
   * again at `runAt`; the attempt claim counted is taken back and the last error kept, so a long
   * outage never dead-letters work.
   */
  release(job: Job, worker: string, runAt: Date): void {
    this.db
      .prepare("UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = max(attempts - 1, 0), run_at = ?, updated_at = ? WHERE id = ? AND locked_by = ?")
      .run(runAt.toISOString(), this.now(), job.id, worker);
  }

  /** base × 2^(attempt−1), capped, with jitter in [50%, 100%] so retries of many users spread out. */
  delayMs(attempts: number): number {
    const exp = Math.min(this.options.maxDelayMs, this.options.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(exp * (0.5 + 0.5 * this.random()));
  }

  /** Graceful shutdown: give every lease of `worker` back so another process can run them at once. */
  releaseAll(worker: string): number {
    return this.db.prepare("UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE locked_by = ?").run(worker).changes;
  }

  /** Puts a dead-lettered (or waiting) job back to run now with a fresh attempt budget. */
  retry(id: number): boolean {
    const now = this.now();
    const retried =
      this.db
        .prepare("UPDATE jobs SET dead = 0, attempts = 0, run_at = ?, updated_at = ? WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)")
        .run(now, now, id, now).changes > 0;
    // "Now" means now: an idle worker (nothing queued, dead letters ignored) would otherwise sleep
    // its whole idle interval (5 s) before seeing the job.
    if (retried) this.notify();
    return retried;
  }

  get(id: number): Job | undefined {
    const r = this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as RawJob | undefined;
    return r && toJob(r);
  }

  /** The user's job (one per user: enqueue collapses them), if any work or a dead letter is pending. */
  forUser(userId: string): Job | undefined {
    const r = this.db.prepare("SELECT * FROM jobs WHERE key = ?").get(userJobKey(userId)) as RawJob | undefined;
    return r && toJob(r);
  }

  list(filter: { dead?: boolean } = {}, limit = 100): Job[] {
    const rows =
      filter.dead === undefined
        ? this.db.prepare("SELECT * FROM jobs ORDER BY run_at, id LIMIT ?").all(limit)
        : this.db.prepare("SELECT * FROM jobs WHERE dead = ? ORDER BY run_at, id LIMIT ?").all(filter.dead ? 1 : 0, limit);
    return (rows as RawJob[]).map(toJob);
  }

  /** Queue depth (live jobs), dead letters, and the age in ms of the oldest live job. */
  stats(): { queued: number; dead: number; oldestAgeMs: number | null } {
    const r = this.db
      .prepare("SELECT sum(dead = 0) AS queued, sum(dead = 1) AS dead, min(CASE WHEN dead = 0 THEN created_at END) AS oldest FROM jobs")
      .get() as { queued: number | null; dead: number | null; oldest: string | null };
    return {
      queued: r.queued ?? 0,
      dead: r.dead ?? 0,
      oldestAgeMs: r.oldest === null ? null : this.clock.now().getTime() - Date.parse(r.oldest),
    };
  }

  /**
   * The queue as /metrics shows it: jobs waiting (ready or backing off), jobs running (a lease not
   * yet expired; an expired lease is waiting to be taken over), dead letters, and the age in ms of
   * the oldest job not dead, running or not, counted from when it was first queued. One pass over a
   * table that holds only pending work and dead letters.
   */
  depth(): { queued: number; running: number; dead: number; oldestAgeMs: number | null } {
    const now = this.now();
    const r = this.db
      .prepare(
        `SELECT sum(dead = 0 AND coalesce(locked_until, '') <= @now) AS queued, sum(dead = 0 AND locked_until > @now) AS running,
           sum(dead = 1) AS dead, min(CASE WHEN dead = 0 THEN created_at END) AS oldest
         FROM jobs`,
      )
      .get({ now }) as { queued: number | null; running: number | null; dead: number | null; oldest: string | null };
    return {
      queued: r.queued ?? 0,
      running: r.running ?? 0,
      dead: r.dead ?? 0,
      oldestAgeMs: r.oldest === null ? null : Date.parse(now) - Date.parse(r.oldest),
    };
  }

  /**
   * The earliest time a job becomes ready, so an idle worker can sleep exactly that long. Two
   * indexed reads, never a scan of the queue: the worker asks after every pass, and a reconcile
   * pass queues every user (a scan of 20,000 jobs after each of them kept the process from
   * answering HTTP for most of a minute).
   */
  nextRunAt(): string | undefined {
    const free = (this.nextFree.get() as string | null) ?? undefined;
    const leased = (this.nextLeased.get() as string | null) ?? undefined;
    if (free === undefined || leased === undefined) return free ?? leased;
    return free < leased ? free : leased;
  }

  /**
   * How many jobs could be claimed now, counted up to `atMost` (the worker's cue to gather a batch
   * needs no more than a batch's worth: counting a whole queue of 100,000 would cost milliseconds).
   */
  readyCount(atMost = -1): number {
    const now = this.now();
    return this.readyUpTo.get(now, now, atMost) as number;
  }
}

/**
 * The job loop: claims ready jobs (one per user at a time, by construction of the queue), runs a
 * provisioning pass for each, and completes, retries or dead-letters them. Up to `concurrency`
 * users are processed at once; a lease heartbeat keeps long jobs (rate-limited HaloPSA calls)
 * from being taken over while they run.
 *
 * The database itself may fail under the loop (a full disk, another process holding the write
 * lock, an I/O error). Nothing the queue or a pass throws ends the process: the failure is recorded
 * for /readyz, the loop backs off and tries again, and a job whose outcome could not be written
 * runs again (passes are idempotent), at once after recovery or when its lease expires.
 */
import { probeDatabase, type DatabaseHealth } from "../db/database-health.js";
import { errorText } from "../domain/secret-scrubber.js";
import { databaseFailureOf } from "../db/database-failure.js";
import type { JobQueue, Job } from "../db/jobs.js";
import type { Logger } from "../log.js";
import { ApplyBatch, PASSES_PER_TURN, turns } from "./apply-batch.js";
import { syncUser, type ProvisioningDeps, type SyncOutcome } from "./sync-user.js";

export interface WorkerOptions {
  readonly id: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Longest sleep when idle; a new job wakes the worker at once through notify(). */
  readonly idleMs: number;
  /** Passes over many users at once (./apply-batch.ts); none: one job at a time, up to `concurrency`. */
  readonly batch?: BatchOptions;
  /** Backoff after a database failure: doubles from minMs up to maxMs, reset by a good turn (default 0.5 s → 30 s). */
  readonly databaseBackoff?: { readonly minMs: number; readonly maxMs: number };
}

export interface BatchOptions {
  /** At least this many ready jobs make a batch; fewer run one by one as usual. */
  readonly minJobs: number;
  /** At most this many jobs in one batch. */
  readonly maxJobs: number;
  /** While jobs keep arriving, wait until none came for this long (ms)... */
  readonly quietMs: number;
  /** ...but never longer than this in all (ms), so a change starts within a second. */
  readonly maxWaitMs: number;
}

const DEFAULT_BACKOFF = { minMs: 500, maxMs: 30_000 };

export class Worker {
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private wake: () => void = () => {};
  private lastBeat = Date.now();
  /** The current backoff after database failures; 0 while the database works. */
  private backoffMs = 0;
  /** While gathering a batch: when it started, and how many jobs were ready at the last look. */
  private gathering: { startedAt: number; lastChangeAt: number; ready: number } | undefined;
  /** Passes of the batch in flight, if one is: one batch at a time. */
  private batchPasses = 0;

  constructor(
    private readonly deps: ProvisioningDeps,
    private readonly jobs: JobQueue,
    private readonly log: Logger,
    private readonly options: WorkerOptions,
    private readonly health: DatabaseHealth,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Wakes an idle worker: called when a job was enqueued. */
  notify(): void {
    this.wake();
  }

  /** True while the loop is alive and has turned recently (for /readyz); a loop backing off is alive. */
  get alive(): boolean {
    const turnMs = Math.max(this.options.idleMs, this.backoffMs);
    return this.loopDone !== undefined && !this.stopping && Date.now() - this.lastBeat < turnMs * 3 + 1000;
  }

  /** Stops claiming, waits for running jobs (up to `graceMs`), then gives their leases back. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all([this.loopDone, ...this.running]), timeout]);
    try {
      this.jobs.releaseAll(this.options.id);
    } catch (e: unknown) {
      // The leases then expire on their own and the next start takes the jobs over.
      this.databaseFailed(e, "give leases back at shutdown");
    }
  }

  /** Runs every job that is ready now, then returns how many ran (tests and the CLI use this). */
  async drain(): Promise<number> {
    let ran = 0;
    for (let job = this.jobs.claim(this.options.id, this.options.leaseMs); job; job = this.jobs.claim(this.options.id, this.options.leaseMs)) {
      await this.run(job);
      ran++;
    }
    return ran;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.lastBeat = Date.now();
      let sleepMs: number;
      try {
        sleepMs = this.turn();
        const problem = this.health.problem;
        if (problem) this.log.info("database works again: provisioning resumes", { after: problem.reason, since: problem.since });
        this.health.succeeded();
        // Only with nothing running: a job just claimed may still fail the same way.
        if (this.running.size === 0) this.backoffMs = 0;
      } catch (e: unknown) {
        this.databaseFailed(e, "claim jobs");
        sleepMs = this.backOff();
      }
      if (this.stopping) break;
      await this.sleep(sleepMs);
    }
  }

  /** Doubles the backoff (from minMs, up to maxMs) and returns it. */
  private backOff(): number {
    const { minMs, maxMs } = this.options.databaseBackoff ?? DEFAULT_BACKOFF;
    this.backoffMs = Math.min(maxMs, Math.max(minMs, this.backoffMs * 2));
    return this.backoffMs;
  }

  /** Claims what it can run now; returns how long to sleep. Throws what the database throws. */
  private turn(): number {
    // After a failure, a probe that waits at most 250 ms for the lock comes first: a claim would
    // block the whole process for busy_timeout (5 s) while another process still holds it.
    if (this.health.problem) probeDatabase(this.deps.db);
    const batch = this.options.batch;
    if (batch && [...this.deps.connectors.values()].some((c) => c.applyMany)) {
      const waitMs = this.gatherBatch(batch);
      if (waitMs !== null) return waitMs;
    }
    while (this.running.size < this.options.concurrency && !this.stopping) {
      const job = this.jobs.claim(this.options.id, this.options.leaseMs);
      if (!job) break;
      const p: Promise<void> = this.run(job).finally(() => {
        this.running.delete(p);
        this.wake();
      });
      this.running.add(p);
    }
    const next = this.jobs.nextRunAt();
    const untilNext = next === undefined ? this.options.idleMs : Math.max(10, Date.parse(next) - Date.now());
    return Math.min(this.options.idleMs, untilNext);
  }

  /**
   * Several jobs ready at once (a first sync, a reconcile pass, a large group change): wait while
   * more keep arriving (bounded), then run them all as one batch. Answers how long to sleep, or
   * null when one-by-one claiming should go on (a lone job starts at once, never waits here).
   * Passes already running one by one do not stop a batch from gathering: a burst that arrives
   * while earlier single jobs finish is still one batch, not hundreds of single passes.
   */
  private gatherBatch(batch: BatchOptions): number | null {
    if (this.batchPasses > 0) return null;
    const ready = this.jobs.readyCount(batch.maxJobs);
    if (ready < 2) {
      this.gathering = undefined;
      return null;
    }
    const now = Date.now();
    const g = this.gathering;
    if (!g) {
      this.gathering = { startedAt: now, lastChangeAt: now, ready };
      return Math.min(batch.quietMs, batch.maxWaitMs);
    }
    if (ready !== g.ready) Object.assign(g, { ready, lastChangeAt: now });
    const quietFor = now - g.lastChangeAt;
    const left = batch.maxWaitMs - (now - g.startedAt);
    if (quietFor < batch.quietMs && left > 0 && ready < batch.maxJobs) return Math.max(1, Math.min(batch.quietMs - quietFor, left));
    this.gathering = undefined;
    if (ready < batch.minJobs) return null;
    const claimed: Job[] = [];
    for (let job = this.jobs.claim(this.options.id, this.options.leaseMs); job; ) {
      claimed.push(job);
      job = claimed.length < batch.maxJobs ? this.jobs.claim(this.options.id, this.options.leaseMs) : undefined;
    }
    const gate = new ApplyBatch(this.deps.connectors, claimed.length, batch.maxWaitMs);
    const deps = { ...this.deps, connectors: gate.connectors };
    this.batchPasses = claimed.length;
    for (const [i, job] of claimed.entries()) {
      // Each pass plans (and reserves) synchronously up to its HaloPSA call; started PASSES_PER_TURN
      // per turn of the event loop, a batch of 250 never holds SCIM requests behind all 250 plans.
      const pass = async (): Promise<SyncOutcome> => {
        await turns(Math.floor(i / PASSES_PER_TURN));
        return syncUser(deps, job.userId, job.requestId);
      };
      const p: Promise<void> = this.run(job, () => pass().finally(() => gate.passDone())).finally(() => {
        this.batchPasses--;
        this.running.delete(p);
        this.wake();
      });
      this.running.add(p);
    }
    return this.options.idleMs;
  }

  /**
   * Sleeps `ms`, or until woken. A wake still lets the event loop turn once (setImmediate) before
   * the next claim: passes with nothing to do end in microtasks, and waking straight from one into
   * the next claim drained a reconcile pass of 20,000 users in one unbroken chain, with no HTTP
   * request (not even /healthz) answered for five seconds.
   */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        setImmediate(resolve);
      };
    });
  }

  /** Records and logs a database failure (anything else is logged as a bug); never throws. */
  private databaseFailed(e: unknown, doing: string, job?: Job): void {
    const failure = this.health.failed(e);
    const context = { doing, ...(job ? { jobId: job.id, userId: job.userId } : {}), error: e };
    if (failure) this.log.warn(`database failed: will retry (${this.health.problem?.reason ?? failure.code})`, context);
    else this.log.error("worker step failed: will retry", context);
  }

  private async run(job: Job, pass = () => syncUser(this.deps, job.userId, job.requestId)): Promise<void> {
    const { id, leaseMs } = this.options;
    const heartbeat = setInterval(() => {
      try {
        if (!this.jobs.extendLease(job, id, leaseMs)) this.log.warn("job lease lost", { jobId: job.id, userId: job.userId });
      } catch (e: unknown) {
        this.databaseFailed(e, "extend a job's lease", job);
      }
    }, Math.max(1000, leaseMs / 3));
    heartbeat.unref();
    try {
      const outcome = await pass();
      if (outcome.failures.length === 0) {
        this.jobs.complete(job, id);
        this.backoffMs = 0;
      } else if (outcome.failures.every((f) => f.settling)) {
        this.jobs.release(job, id, new Date(Date.now() + Math.max(...outcome.failures.map((f) => f.retryAfterMs ?? 0))));
      } else {
        const error = this.deps.scrub(outcome.failures.filter((f) => !f.settling).map((f) => `${f.app}: ${f.message}`).join("; "));
        const permanent = outcome.failures.every((f) => !f.retryable);
        const notBeforeMs = Math.max(0, ...outcome.failures.map((f) => f.retryAfterMs ?? 0));
        const verdict = this.jobs.fail(job, id, error, { permanent, notBeforeMs });
        this.log[verdict === "dead" ? "error" : "warn"](verdict === "dead" ? "job dead-lettered" : "job will be retried", {
          jobId: job.id,
          userId: job.userId,
          attempts: job.attempts,
          requestId: job.requestId,
          error,
        });
      }
    } catch (e: unknown) {
      this.crashed(job, e);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * A pass or its bookkeeping threw. A database failure gives the job back uncounted, to run once
   * the loop's backoff says the database works again; a bug is retried like any failure. If even
   * that write fails, the lease expires and the job is taken over: never lost.
   */
  private crashed(job: Job, e: unknown): void {
    const { id } = this.options;
    try {
      if (databaseFailureOf(e)) {
        this.databaseFailed(e, "run a job", job);
        this.jobs.release(job, id, new Date(Date.now() + this.backOff()));
      } else {
        this.log.error("job crashed", { jobId: job.id, userId: job.userId, error: e });
        this.jobs.fail(job, id, errorText(e, this.deps.scrub));
      }
    } catch (again: unknown) {
      this.databaseFailed(again, "give a failed job back", job);
    }
  }
}

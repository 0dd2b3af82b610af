/**
 * The job loop: claims ready jobs (one per user at a time, by construction of the queue), runs a
 * provisioning pass for each, and completes, retries or dead-letters them. Up to `concurrency`
 * users are processed at once; a lease heartbeat keeps long jobs (rate-limited HaloPSA calls)
 * from being taken over while they run.
 */
import type { JobQueue, Job } from "../db/jobs.js";
import type { Logger } from "../log.js";
import { syncUser, type ProvisioningDeps } from "./sync-user.js";

export interface WorkerOptions {
  readonly id: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Longest sleep when idle; a new job wakes the worker at once through notify(). */
  readonly idleMs: number;
}

export class Worker {
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private wake: () => void = () => {};
  private lastBeat = Date.now();

  constructor(
    private readonly deps: ProvisioningDeps,
    private readonly jobs: JobQueue,
    private readonly log: Logger,
    private readonly options: WorkerOptions,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Wakes an idle worker: called when a job was enqueued. */
  notify(): void {
    this.wake();
  }

  /** True while the loop is alive and has turned recently (for /readyz). */
  get alive(): boolean {
    return this.loopDone !== undefined && !this.stopping && Date.now() - this.lastBeat < this.options.idleMs * 3 + 1000;
  }

  /** Stops claiming, waits for running jobs (up to `graceMs`), then gives their leases back. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all([this.loopDone, ...this.running]), timeout]);
    this.jobs.releaseAll(this.options.id);
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
      while (this.running.size < this.options.concurrency && !this.stopping) {
        const job = this.jobs.claim(this.options.id, this.options.leaseMs);
        if (!job) break;
        const p: Promise<void> = this.run(job).finally(() => {
          this.running.delete(p);
          this.wake();
        });
        this.running.add(p);
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const next = this.jobs.nextRunAt();
        const untilNext = next === undefined ? this.options.idleMs : Math.max(10, Date.parse(next) - Date.now());
        const timer = setTimeout(resolve, Math.min(this.options.idleMs, untilNext));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const { id, leaseMs } = this.options;
    const heartbeat = setInterval(() => {
      if (!this.jobs.extendLease(job, id, leaseMs)) this.log.warn("job lease lost", { jobId: job.id, userId: job.userId });
    }, Math.max(1000, leaseMs / 3));
    heartbeat.unref();
    try {
      const outcome = await syncUser(this.deps, job.userId, job.requestId);
      if (outcome.failures.length === 0) {
        this.jobs.complete(job, id);
      } else if (outcome.failures.every((f) => f.settling)) {
        this.jobs.postpone(job, id, Math.max(...outcome.failures.map((f) => f.retryAfterMs ?? 0)));
      } else {
        const error = outcome.failures.filter((f) => !f.settling).map((f) => `${f.app}: ${f.message}`).join("; ");
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
      // A bug or a database error: the job is retried like any failure, never lost.
      const message = e instanceof Error ? e.message : String(e);
      this.log.error("job crashed", { jobId: job.id, userId: job.userId, error: e });
      this.jobs.fail(job, id, message);
    } finally {
      clearInterval(heartbeat);
    }
  }
}

/**
 * The worker loop against a queue whose database fails: every JobQueue method the loop calls
 * throws better-sqlite3's SqliteError (full, busy, I/O) for a while. The loop must keep turning,
 * record the failure for /readyz, back off, and finish the job once the queue works again.
 */
import { TaskStore } from "../../src/db/tasks.js";
import { TaskWriter } from "../../src/provisioning/task-writer.js";
import { KeptRoleLock } from "../../src/provisioning/kept-role-lock.js";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../../src/clock.js";
import { AuditLog } from "../../src/db/audit.js";
import { openDatabase } from "../../src/db/database.js";
import { DatabaseHealth } from "../../src/db/database-health.js";
import { DirectorySnapshots } from "../../src/db/directory-snapshots.js";
import { IdentityMap } from "../../src/db/identity-map.js";
import { JobQueue } from "../../src/db/jobs.js";
import { Worker } from "../../src/provisioning/worker.js";
import { capturingLogger } from "../support/io.js";
import { waitFor } from "../support/provisioning.js";

type QueueMethod = "claim" | "complete" | "fail" | "release" | "extendLease" | "nextRunAt" | "releaseAll";

/** A real queue whose methods throw the scheduled SqliteErrors, one per call, before working again. */
function failingQueue(jobs: JobQueue, schedule: Partial<Record<QueueMethod, string[]>>, calls: string[]): JobQueue {
  return new Proxy(jobs, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const code = schedule[name as QueueMethod]?.shift();
        calls.push(`${String(name)}${code ? `:${code}` : ""}`);
        if (code) throw new Database.SqliteError(`${code} injected`, code);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe("worker on a failing database", () => {
  it("keeps turning while every queue call throws SqliteError, then runs the job it could not finish", async () => {
    const db = openDatabase(":memory:");
    const { log, lines } = capturingLogger("debug");
    const queue = new JobQueue(db, systemClock, { maxAttempts: 2, backoffBaseMs: 10, maxDelayMs: 20 });
    queue.enqueueUsers(["user-1"], "req-1");
    const calls: string[] = [];
    const jobs = failingQueue(
      queue,
      {
        claim: ["SQLITE_FULL", "SQLITE_BUSY", "SQLITE_IOERR_WRITE"],
        nextRunAt: ["SQLITE_BUSY"],
        // The pass succeeds but its completion cannot be written, nor can the job be given back.
        complete: ["SQLITE_FULL"],
        release: ["SQLITE_FULL"],
        releaseAll: ["SQLITE_IOERR"],
      },
      calls,
    );
    const health = new DatabaseHealth();
    const accounts = new IdentityMap(db, systemClock);
    const taskWriter = new TaskWriter({ tasks: new TaskStore(db, systemClock), accounts, clock: systemClock, apps: [], rules: [], jobs: { enqueueUsers: () => undefined } });
    const deps = { db, directory: new DirectorySnapshots(db), accounts, audit: new AuditLog(db, systemClock), taskWriter, keptRoleLock: new KeptRoleLock([]), connectors: new Map(), apps: [], rules: [], clock: systemClock, log, scrub: (text: string) => text };
    // A short lease: the job whose completion was lost is taken over when it expires.
    const worker = new Worker(deps, jobs, log, { id: "w1", concurrency: 2, leaseMs: 300, idleMs: 50, databaseBackoff: { minMs: 10, maxMs: 40 } }, health);
    worker.start();
    onTestFinished(() => worker.stop(1000));

    await waitFor(() => calls.includes("release:SQLITE_FULL"), 5000, "the lost completion");
    expect(worker.alive).toBe(true);
    expect(queue.list()).toHaveLength(1);
    const recorded = lines.filter((l) => l.includes("database failed: will retry (database full (SQLITE_FULL))")).map((l) => (JSON.parse(l) as { doing: string }).doing);
    expect(recorded).toEqual(["claim jobs", "run a job", "give a failed job back"]);
    await waitFor(() => queue.list().length === 0 && health.problem === undefined, 5000, "the job run again and completed");
    expect(calls.filter((c) => c.startsWith("claim:"))).toEqual(["claim:SQLITE_FULL", "claim:SQLITE_BUSY", "claim:SQLITE_IOERR_WRITE"]);
    expect(worker.alive).toBe(true);
    await worker.stop(1000);
    expect(lines.some((l) => l.includes("database works again"))).toBe(true);
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../src/db/database.js";
import { JobQueue } from "../../src/db/jobs.js";

class TestClock {
  constructor(public ms = Date.parse("2026-01-01T00:00:00.000Z")) {}
  now = () => new Date(this.ms);
  advance(ms: number) {
    this.ms += ms;
  }
}

describe("job queue", () => {
  let db: Db;
  let clock: TestClock;
  let jobs: JobQueue;
  beforeEach(() => {
    db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-jobs-")), "jobs.db"));
    clock = new TestClock();
    jobs = new JobQueue(db, clock, { maxAttempts: 3, backoffBaseMs: 1000, maxDelayMs: 60_000, random: () => 1 });
  });

  it("collapses repeated changes for one user into one job", () => {
    jobs.enqueueUsers(["u1", "u1", "u2"], "req-1");
    jobs.enqueueUsers(["u1"], "req-2");
    expect(jobs.list().map((j) => [j.userId, j.requestId])).toEqual([
      ["u1", "req-2"],
      ["u2", "req-1"],
    ]);
  });

  it("claims every change from the IdP before the jobs of a sweep queued earlier", () => {
    jobs.enqueueSweep(["s1", "s2", "leaver"], "reconcile");
    clock.advance(1000);
    jobs.enqueueUsers(["joiner"], "scim-1");
    // A change for a user the sweep already queued takes that job out of the sweep.
    jobs.enqueueUsers(["leaver"], "scim-2");
    // A sweep never pushes an IdP change back into the sweep.
    jobs.enqueueSweep(["joiner", "s3"], "reconcile-2");
    const order: string[] = [];
    for (let job = jobs.claim("w", 30_000); job; job = jobs.claim("w", 30_000)) order.push(job.userId);
    expect(order).toEqual(["leaver", "joiner", "s1", "s2", "s3"]);
  });

  it("knows when the next job is due, sweep or not, leased or not", () => {
    expect(jobs.nextRunAt()).toBeUndefined();
    jobs.enqueueSweep(["s1"], null);
    const sweepAt = clock.now().toISOString();
    clock.advance(5000);
    jobs.enqueueUsers(["u1"], null);
    expect(jobs.nextRunAt()).toBe(sweepAt);
    const claimed = jobs.claim("w", 30_000)!;
    expect(claimed.userId).toBe("u1");
    expect(jobs.nextRunAt()).toBe(sweepAt);
    jobs.claim("w", 30_000);
    // Both leased: the earliest lease to run out is when a job could be claimed again.
    expect(jobs.nextRunAt()).toBe(new Date(clock.ms + 30_000).toISOString());
    expect(jobs.readyCount()).toBe(0);
  });

  it("counts ready jobs up to a cap", () => {
    jobs.enqueueUsers(["a", "b", "c"], null);
    jobs.enqueueSweep(["d", "e"], null);
    expect(jobs.readyCount()).toBe(5);
    expect(jobs.readyCount(2)).toBe(2);
  });

  it("claims one job per user at a time, counting the attempt and taking a lease in one step", () => {
    jobs.enqueueUsers(["u1"], null);
    const job = jobs.claim("w1", 30_000)!;
    expect(job).toMatchObject({ userId: "u1", attempts: 1, lockedBy: "w1" });
    expect(jobs.claim("w2", 30_000)).toBeUndefined();
  });

  it("lets another worker take over a job whose lease expired (a crashed worker)", () => {
    jobs.enqueueUsers(["u1"], null);
    jobs.claim("w1", 30_000);
    clock.advance(30_001);
    const retaken = jobs.claim("w2", 30_000)!;
    expect(retaken).toMatchObject({ lockedBy: "w2", attempts: 2 });
    // The old owner can no longer complete or fail it.
    jobs.complete(retaken, "w1");
    expect(jobs.get(retaken.id)).toBeDefined();
  });

  it("deletes a completed job", () => {
    jobs.enqueueUsers(["u1"], null);
    const job = jobs.claim("w1", 30_000)!;
    jobs.complete(job, "w1");
    expect(jobs.list()).toEqual([]);
  });

  it("runs a job again when a change arrived while it was running", () => {
    jobs.enqueueUsers(["u1"], "req-1");
    const job = jobs.claim("w1", 30_000)!;
    jobs.enqueueUsers(["u1"], "req-2");
    expect(jobs.claim("w2", 30_000)).toBeUndefined();
    jobs.complete(job, "w1");
    const again = jobs.claim("w1", 30_000)!;
    expect(again).toMatchObject({ userId: "u1", requestId: "req-2", attempts: 1 });
  });

  it("backs off exponentially after failures and dead-letters after max attempts", () => {
    jobs.enqueueUsers(["u1"], null);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const job = jobs.claim("w1", 30_000)!;
      expect(job.attempts).toBe(attempt);
      const verdict = jobs.fail(job, "w1", `HaloPSA 503 (attempt ${attempt})`);
      const after = jobs.get(job.id)!;
      if (attempt < 3) {
        expect(verdict).toBe("retry");
        delays.push(Date.parse(after.runAt) - clock.ms);
        expect(jobs.claim("w1", 30_000)).toBeUndefined();
        clock.advance(Date.parse(after.runAt) - clock.ms);
      } else {
        expect(verdict).toBe("dead");
        expect(after).toMatchObject({ dead: true, lastError: "HaloPSA 503 (attempt 3)" });
      }
    }
    expect(delays).toEqual([1000, 2000]);
    expect(jobs.stats()).toMatchObject({ queued: 0, dead: 1 });
    expect(jobs.claim("w1", 30_000)).toBeUndefined();
  });

  it("dead-letters at once a failure that retrying cannot fix", () => {
    jobs.enqueueUsers(["u1"], null);
    const job = jobs.claim("w1", 30_000)!;
    expect(jobs.fail(job, "w1", 'halopsa: team "Nope" is unknown', { permanent: true })).toBe("dead");
    expect(jobs.list({ dead: true })).toMatchObject([{ userId: "u1", attempts: 1, lastError: 'halopsa: team "Nope" is unknown' }]);
  });

  it("spreads retries with jitter between half and the full delay", () => {
    const jittered = new JobQueue(db, clock, { maxAttempts: 3, backoffBaseMs: 1000, maxDelayMs: 60_000, random: () => 0 });
    expect(jittered.delayMs(1)).toBe(500);
    expect(jittered.delayMs(20)).toBe(30_000);
  });

  it("brings a dead job back with a fresh budget on a new change, and on a manual retry", () => {
    jobs.enqueueUsers(["u1"], null);
    for (let i = 0; i < 3; i++) {
      const job = jobs.claim("w1", 30_000)!;
      jobs.fail(job, "w1", "down");
      clock.advance(60_000);
    }
    const dead = jobs.list({ dead: true })[0]!;
    jobs.enqueueUsers(["u1"], "req-new");
    expect(jobs.claim("w1", 30_000)).toMatchObject({ attempts: 1, requestId: "req-new" });
    const job = jobs.get(dead.id)!;
    jobs.fail(job, "w1", "still down");
    expect(jobs.retry(dead.id)).toBe(true);
    expect(jobs.claim("w1", 30_000)).toMatchObject({ attempts: 1 });
  });

  it("gives every lease back on shutdown so the work restarts at once", () => {
    jobs.enqueueUsers(["u1", "u2"], null);
    jobs.claim("w1", 30_000);
    jobs.claim("w1", 30_000);
    expect(jobs.releaseAll("w1")).toBe(2);
    expect(jobs.claim("w2", 30_000)).toBeDefined();
  });

  it("reports queue depth and the age of the oldest job", () => {
    jobs.enqueueUsers(["u1"], null);
    clock.advance(5000);
    jobs.enqueueUsers(["u2"], null);
    expect(jobs.stats()).toEqual({ queued: 2, dead: 0, oldestAgeMs: 5000 });
  });
});

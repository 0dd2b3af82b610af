/**
 * The queue figures /metrics shows (JobQueue.depth) on a real SQLite file with a test clock:
 * waiting and running jobs, an expired lease counted as waiting again, dead letters apart, and the
 * age of the oldest job not done.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { JobQueue } from "../../src/db/jobs.js";

describe("job queue depth", () => {
  it("splits waiting, running and dead jobs and ages the oldest one not done", () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-depth-")), "jobs.db"));
    let ms = Date.parse("2026-01-01T00:00:00.000Z");
    const jobs = new JobQueue(db, { now: () => new Date(ms) }, { maxAttempts: 1, backoffBaseMs: 1000, maxDelayMs: 60_000, random: () => 1 });
    expect(jobs.depth()).toEqual({ queued: 0, running: 0, dead: 0, oldestAgeMs: null });

    jobs.enqueueUsers(["u1"], null);
    ms += 1000;
    jobs.enqueueUsers(["u2", "u3"], null);
    const running = jobs.claim("w1", 30_000)!;
    expect(running.userId).toBe("u1");
    const failing = jobs.claim("w1", 30_000)!;
    expect(jobs.fail(failing, "w1", "HaloPSA said no")).toBe("dead");
    ms += 4000;
    expect(jobs.depth()).toEqual({ queued: 1, running: 1, dead: 1, oldestAgeMs: 5000 });

    // The worker died: once its lease runs out the job is waiting again, not running.
    ms += 30_000;
    expect(jobs.depth()).toEqual({ queued: 2, running: 0, dead: 1, oldestAgeMs: 35_000 });
    db.close();
  });
});

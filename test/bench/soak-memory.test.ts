/** The soak's memory verdict (bench/soak-memory.ts); the soak itself is not run in CI. */
import { describe, expect, it } from "vitest";
import { heapWindow, soakFailed, timeline, type MemorySample } from "../../bench/soak-memory.js";

/** A sample every 10 s for `seconds`, heap from `heapAt(t)`. */
function run(seconds: number, heapAt: (t: number) => number): MemorySample[] {
  return Array.from({ length: seconds / 10 + 1 }, (_, i) => ({ t: i * 10, heapMiB: heapAt(i * 10), codeMiB: 1, rssMiB: 100, pendingJobs: 0 }));
}

describe("soak memory verdict", () => {
  it("judges an hour on its last 40 minutes: warm-up growth before them does not count", () => {
    // +6 MiB over the first 20 minutes, then flat.
    const samples = run(3600, (t) => 20 + Math.min(t, 1200) / 200);
    const w = heapWindow(samples, 3600);
    expect([w.fromSeconds, w.toSeconds]).toEqual([1200, 3600]);
    expect(w.mibPerHour).toBeCloseTo(0, 6);
    expect(soakFailed(0, 3600, w)).toBe(false);
  });

  it("fails an hour whose heap keeps growing faster than 2 MiB/h over its last 40 minutes", () => {
    const w = heapWindow(run(3600, (t) => 20 + (3 * t) / 3600), 3600);
    expect(w.mibPerHour).toBeCloseTo(3, 6);
    expect(soakFailed(0, 3600, w)).toBe(true);
  });

  it("reports a short run's slope without failing on it; errors fail any run", () => {
    const w = heapWindow(run(300, (t) => 20 + t / 100), 300);
    expect(w.fromSeconds).toBe(100);
    expect(w.mibPerHour).toBeCloseTo(36, 6);
    expect(soakFailed(0, 300, w)).toBe(false);
    expect(soakFailed(1, 300, w)).toBe(true);
  });

  it("prints one row per 5 minutes and the last sample, marking the slope's window", () => {
    const samples = run(3600, () => 20);
    const rows = timeline(samples, heapWindow(samples, 3600));
    expect(rows.map((r) => r["at (m:ss)"])).toEqual(["0:00", "5:00", "10:00", "15:00", "20:00", "25:00", "30:00", "35:00", "40:00", "45:00", "50:00", "55:00", "60:00"]);
    expect(rows.map((r) => r["window"] === "warm-up")).toEqual([true, true, true, true, false, false, false, false, false, false, false, false, false]);
  });

  it("writes a time just under a whole minute as that minute, never as :60", () => {
    const samples = [0, 59.6].map((t) => ({ t, heapMiB: 20, codeMiB: 1, rssMiB: 100, pendingJobs: 0 }));
    expect(timeline(samples, heapWindow(samples, 59.6)).map((r) => r["at (m:ss)"])).toEqual(["0:00", "1:00"]);
  });
});

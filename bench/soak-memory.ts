/**
 * The soak's memory verdict, from heap-after-GC samples: a compact timeline (one row per 5 minutes)
 * and the heap slope over the last two thirds of the run. The first third is left out because
 * caches, JIT, SQLite's page cache and the seeded directory's growth (creates outnumber deletes)
 * settle then; what still grows after it is what a leak looks like. A one-hour run is judged on
 * its last 40 minutes.
 */

export interface MemorySample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly heapMiB: number;
  /** Of the heap, compiled code. */
  readonly codeMiB: number;
  readonly rssMiB: number;
  readonly pendingJobs: number;
}

/** Only a run this long is judged on its slope; a shorter one reports it but cannot tell warm-up from a leak. */
export const JUDGED_RUN_SECONDS = 3600;
export const MAX_HEAP_SLOPE_MIB_PER_HOUR = 2;
const ROW_EVERY_SECONDS = 300;

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

export interface HeapWindow {
  readonly fromSeconds: number;
  readonly toSeconds: number;
  readonly samples: number;
  readonly mibPerHour: number;
}

/** The heap slope over the last two thirds of the load (`loadSeconds` long). */
export function heapWindow(samples: readonly MemorySample[], loadSeconds: number): HeapWindow {
  const fromSeconds = Math.round(loadSeconds / 3);
  const inWindow = samples.filter((s) => s.t >= fromSeconds && s.t <= loadSeconds + 1);
  return { fromSeconds, toSeconds: Math.round(loadSeconds), samples: inWindow.length, mibPerHour: slope(inWindow.map((s) => [s.t / 3600, s.heapMiB])) };
}

/** A run is judged on its slope only when it is long enough; errors fail any run. */
export function soakFailed(errors: number, loadSeconds: number, window: HeapWindow): boolean {
  return errors > 0 || (loadSeconds >= JUDGED_RUN_SECONDS && window.mibPerHour > MAX_HEAP_SLOPE_MIB_PER_HOUR);
}

function clock(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * One row per 5 minutes of load (the sample nearest each mark), plus the last sample of the load;
 * the rows inside the slope's window say so.
 */
export function timeline(samples: readonly MemorySample[], window: HeapWindow): Record<string, string | number>[] {
  if (samples.length === 0) return [];
  const marks: number[] = [];
  for (let m = 0; m < window.toSeconds; m += ROW_EVERY_SECONDS) marks.push(m);
  const nearest = (m: number) => samples.reduce((best, s) => (Math.abs(s.t - m) < Math.abs(best.t - m) ? s : best));
  const rows = [...new Set([...marks.map(nearest), samples[samples.length - 1]!])];
  return rows.map((s) => ({
    "at (m:ss)": clock(s.t),
    heapAfterGcMiB: s.heapMiB,
    ofWhichCodeMiB: s.codeMiB,
    rssMiB: s.rssMiB,
    pendingJobs: s.pendingJobs,
    window: s.t >= window.fromSeconds ? `slope (from ${clock(window.fromSeconds)})` : "warm-up",
  }));
}

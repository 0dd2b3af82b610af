/**
 * The process under test for `npm run bench -- soak`: the real bridge, started by main.ts's
 * `start()` from the environment exactly as `node dist/src/main.js` would, plus an IPC channel
 * through which the load generator asks for memory (after a forced GC, so the figures are live
 * data, not garbage not yet collected) and the job queue's depth, and, when SOAK_HEAP_SNAPSHOT_DIR is
 * set, for a heap snapshot. Forked with --expose-gc.
 */
import { join } from "node:path";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { loadConfig } from "../src/config.js";
import { start } from "../src/main.js";

export interface SoakSample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Of which compiled code: the JIT optimising more functions as they get hot, warm-up rather than data. */
  readonly codeBytes: number;
  readonly pendingJobs: number;
  readonly deadJobs: number;
  readonly gcForced: boolean;
}

async function main(): Promise<void> {
  const running = await start(loadConfig());
  const queue = running.db.prepare("SELECT count(*) - coalesce(sum(dead), 0) AS pending, coalesce(sum(dead), 0) AS dead FROM jobs");
  process.send?.({ url: running.url });
  process.on("message", (m) => {
    if (m === "sample") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      const { pending, dead } = queue.get() as { pending: number; dead: number };
      const codeBytes = getHeapSpaceStatistics().find((s) => s.space_name === "code_space")?.space_used_size ?? 0;
      const sample: SoakSample = { rssBytes: rss, heapUsedBytes: heapUsed, codeBytes, pendingJobs: pending, deadJobs: dead, gcForced: gc !== undefined };
      process.send?.(sample);
    }
    const snapshotDir = process.env["SOAK_HEAP_SNAPSHOT_DIR"];
    if (m === "snapshot" && snapshotDir !== undefined) {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ file: writeHeapSnapshot(join(snapshotDir, `soak-${Math.round(process.uptime())}s.heapsnapshot`)) });
    }
    if (m === "stop") void running.close().then(() => process.exit(0));
  });
}

void main();

/**
 * `npm run bench`: every benchmark in one run (or one: `npm run bench -- scim|scale|provisioning|soak`).
 * Prints a table per benchmark and writes bench/results/<name>.json. Not a test: it measures.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runProvisioningBench } from "./provisioning.js";
import type { BenchReport } from "./report.js";
import { runScaleBench } from "./scale.js";
import { runScimBench } from "./scim.js";
import { runSoakBench } from "./soak.js";

const benches: Record<string, () => Promise<BenchReport>> = { scim: runScimBench, scale: runScaleBench, provisioning: runProvisioningBench, soak: runSoakBench };
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results");

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only !== undefined && !(only in benches)) throw new Error(`unknown benchmark "${only}" (known: ${Object.keys(benches).join(", ")})`);
  mkdirSync(resultsDir, { recursive: true });
  for (const [name, run] of Object.entries(benches)) {
    if (only !== undefined && only !== name) continue;
    const report = await run();
    console.log(`\n== ${name}: ${report.summary}\n`);
    console.table(report.rows);
    console.table(report.targets);
    if (report.timeline) console.table(report.timeline);
    const file = join(resultsDir, `${name}.json`);
    writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2)}\n`);
    console.log(`Wrote ${file}`);
    if (report.failed) {
      console.error(report.failure === undefined ? `${name}: some requests failed; the figures above are not valid.` : `${name}: ${report.failure}.`);
      process.exitCode = 1;
    }
  }
}

void main();

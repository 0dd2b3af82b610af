/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. `BENCH_PROFILE=1 npm run bench -- scim`):
 * self time by module (a package in node_modules, a file of the bridge, node's internals) and by
 * function, as shares of busy time (idle excluded). Usage: node dist/bench/profile-summary.js FILE [TOP].
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A package name for node_modules, the path below dist/ for the bridge, the URL otherwise. */
function moduleOf(url: string): string {
  if (url === "") return "(native/vm)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/(.+)$/.exec(url);
  return own ? own[1]! : url.replace(/^file:\/\//, "");
}

function top(totals: Map<string, number>, busy: number, n: number): { name: string; share: string; ms: number }[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, share: `${((us / busy) * 100).toFixed(1)}%`, ms: Math.round(us / 1000) }));
}

function main(): void {
  const [file, n = "25"] = process.argv.slice(2);
  if (file === undefined) throw new Error("usage: profile-summary FILE [TOP]");
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") return;
    busy += us;
    const module = moduleOf(frame.url);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const name = `${frame.functionName || "(anonymous)"} ${module}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  });
  console.log(`busy ${Math.round(busy / 1000)} ms of samples`);
  console.table(top(byModule, busy, Number(n)));
  console.table(top(byFunction, busy, Number(n)));
}

main();

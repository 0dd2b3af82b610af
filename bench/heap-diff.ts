/**
 * Compares two V8 heap snapshots (from `SOAK_HEAP_SNAPSHOT_DIR=<dir> npm run bench -- soak`): per
 * constructor (objects) or node type (strings, arrays, closures…), how many more there are in the
 * second and how many more bytes they hold themselves, largest growth first. What grows between the
 * start of the soak's slope window and the end of its load, while the directory's size is steady,
 * is where to look for a leak.
 *
 *   node dist/bench/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [rows]
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

interface Tally {
  count: number;
  bytes: number;
}

/** Object nodes count by constructor name; every other node by its type ("string", "closure", "array"…). */
function tally(s: Snapshot): Map<string, Tally> {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, Tally>();
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + typeAt]!]!;
    const key = type === "object" ? s.strings[s.nodes[i + nameAt]!]! : `(${type})`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += s.nodes[i + sizeAt]!;
    out.set(key, t);
  }
  return out;
}

function main(): void {
  const [beforeFile, afterFile, rows = "30"] = process.argv.slice(2);
  if (beforeFile === undefined || afterFile === undefined) throw new Error("usage: heap-diff <before.heapsnapshot> <after.heapsnapshot> [rows]");
  const read = (f: string) => tally(JSON.parse(readFileSync(f, "utf8")) as Snapshot);
  const before = read(beforeFile);
  const after = read(afterFile);
  const keys = new Set([...before.keys(), ...after.keys()]);
  const diff = [...keys].map((k) => {
    const b = before.get(k) ?? { count: 0, bytes: 0 };
    const a = after.get(k) ?? { count: 0, bytes: 0 };
    return { constructor: k, before: b.count, after: a.count, countDelta: a.count - b.count, bytesDelta: a.bytes - b.bytes };
  });
  diff.sort((x, y) => y.bytesDelta - x.bytesDelta || y.countDelta - x.countDelta);
  console.table(diff.slice(0, Number(rows)));
}

main();

/**
 * Reads the Prometheus text exposition format (version 0.0.4) the way a scraper does: one sample
 * per line, `name{label="value",...} value`, comments and blank lines skipped, label values
 * unescaped. Written here rather than taken from prom-client, so the bridge's output is checked by
 * something that did not produce it.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

function labelsOf(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m || m.index !== start) throw new Error(`unreadable labels in: ${line}`);
    labels[m[1]!] = unescape(m[2]!);
  }
  return labels;
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    // Prometheus reads values with Go's ParseFloat: Inf and NaN in any letter case (prom-client writes "Nan").
    const text = m[3]!.toLowerCase();
    const value = text === "+inf" || text === "inf" ? Infinity : text === "-inf" ? -Infinity : text === "nan" ? NaN : Number(text);
    if (Number.isNaN(value) && text !== "nan") throw new Error(`not a sample value: ${line}`);
    samples.push({ name: m[1]!, labels: labelsOf(m[2] ?? "", line), value });
  }
  return samples;
}

/** The one sample named `name` whose labels include `labels`; undefined when none, an error when several. */
export function sample(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

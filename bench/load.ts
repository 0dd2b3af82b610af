/**
 * One load scenario for the HTTP benches: autocannon at a fixed number of connections for
 * BENCH_SECONDS, after BENCH_WARMUP_SECONDS of the same requests that are not measured. The
 * warm-up lets V8 compile the scenario's code path, so a figure describes the steady service an
 * IdP meets over a sync that lasts minutes, not the first second of a fresh process; the bare
 * ceiling is warmed the same way, so the ratios stay side by side.
 */
import autocannon from "autocannon";

export const DURATION_S = Number(process.env["BENCH_SECONDS"] ?? 6);
export const WARMUP_S = Number(process.env["BENCH_WARMUP_SECONDS"] ?? 2);

export type SetupRequest = (request: autocannon.Request) => autocannon.Request;

/** A type alias, not an interface: report rows are plain records. */
export type LoadRow = {
  readonly scenario: string;
  readonly connections: number;
  readonly requests: number;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
};

export interface LoadOptions {
  readonly scenario: string;
  readonly url: string;
  readonly connections: number;
  readonly headers: Record<string, string>;
  readonly setupRequest: SetupRequest;
}

export async function load(o: LoadOptions): Promise<LoadRow> {
  const run = (duration: number) => autocannon({ url: o.url, connections: o.connections, duration, headers: o.headers, requests: [{ setupRequest: o.setupRequest }] });
  if (WARMUP_S > 0) await run(WARMUP_S);
  const r = await run(DURATION_S);
  return {
    scenario: o.scenario,
    connections: o.connections,
    requests: r.requests.total,
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

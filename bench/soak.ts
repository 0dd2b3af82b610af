/**
 * Soak (issue 5, Proof: Load): Entra's required 25 requests/s, open loop, for SOAK_SECONDS
 * (default 300) against the real bridge as a child process, with the HaloPSA simulator in this
 * process answering 50–300 ms late and failing some calls (500, 503, 429). Open loop: request n
 * is sent at t0 + n/rate whether or not earlier ones have answered, and its latency is counted
 * from that scheduled time, so a stall shows up as latency instead of hiding as a lower rate.
 *
 * The mix is what an Entra provisioning cycle sends: GET by filter (Entra's "does it exist?"),
 * GET of a page, POST of new users, PATCH of users in Entra's default dialect ("Replace", "False"),
 * PATCH adding and removing members of the two mapped groups (so work flows to HaloPSA), and the
 * occasional DELETE. Every answer must be 2xx: there is no request in the mix that the bridge may
 * rightly refuse (a user is never the target of two writes at once, nor used after its DELETE).
 *
 * Reported: error rate (any non-2xx or network error; the run fails unless it is 0), latency
 * percentiles, RSS and heap after a forced GC every 10 s and their slope, the job queue when the
 * load stops and the time it takes to drain, dead letters, and whether HaloPSA then matches the
 * directory. The inbound rate limit keeps its defaults: 25 requests/s must pass it untouched.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../src/dev/halopsa-simulator.js";
import type { BenchReport } from "./report.js";
import { heapWindow, JUDGED_RUN_SECONDS, MAX_HEAP_SLOPE_MIB_PER_HOUR, slope, soakFailed, timeline, type MemorySample } from "./soak-memory.js";
import type { SoakSample } from "./soak-server.js";

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env["SOAK_SECONDS"] ?? 300);
const RATE = Number(process.env["SOAK_RATE"] ?? 25);
/** Share of HaloPSA calls answered 500, 503 or 429 (injected one at a time, spread over the run). */
const HALO_ERROR_SHARE = Number(process.env["SOAK_HALO_ERROR_SHARE"] ?? 0.05);
const SEED_USERS = 300;
const SAMPLE_EVERY_MS = 10_000;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** When set, the bridge writes a heap snapshot there as the slope's window opens and as the load stops (for finding a leak; it stalls the bridge for a moment). */
const SNAPSHOT_DIR = process.env["SOAK_HEAP_SNAPSHOT_DIR"];
const TOKEN = "soak-scim-token-0123456789abcdef";
const ADMIN_TOKEN = "soak-admin-token-0123456789abcdef";
/** How often the bridge is probed as a deployment probes it: Prometheus scrapes /metrics, the orchestrator asks /readyz. */
const PROBE_SECONDS = Number(process.env["SOAK_PROBE_SECONDS"] ?? 15);
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUPS = ["HaloPSA Agents", "HaloPSA Admins"] as const;

/** Request kinds and their share of the mix (per 100). */
const MIX = { getByFilter: 30, getPage: 10, createUser: 12, patchUser: 15, addMember: 18, removeMember: 10, deleteUser: 5 } as const;
type Kind = keyof typeof MIX;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The directory as this generator knows it: which users exist, which are busy, who is in which group. */
class Pool {
  readonly users = new Map<string, string>(); // id → userName
  readonly members = new Map<string, Set<string>>(GROUPS.map((g) => [g, new Set<string>()]));
  readonly busy = new Set<string>();
  created = 0;

  idleUser(): string | undefined {
    for (let tries = 0; tries < 20; tries++) {
      const id = pick([...this.users.keys()]);
      if (id !== undefined && !this.busy.has(id)) return id;
    }
    return undefined;
  }

  idleMember(): { group: string; id: string } | undefined {
    const group = pick(GROUPS)!;
    const id = pick([...this.members.get(group)!].filter((m) => !this.busy.has(m)));
    return id === undefined ? undefined : { group, id };
  }
}

interface Outcome {
  readonly kind: Kind | "probe";
  readonly ms: number;
  readonly ok: boolean;
  readonly detail?: string;
}

/** The child's answers arrive one at a time, in the order asked. */
function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send(message);
  });
}

/** HaloPSA misbehaving all run long: latency redrawn every 100 ms, errors injected one at a time. */
function haloChaos(sim: HaloPsaSimulator): { stop(): void; injected: Record<string, number> } {
  const injected: Record<string, number> = { "500": 0, "503": 0, "429": 0 };
  const latency = setInterval(() => void (sim.faults.latencyMs = 50 + Math.floor(Math.random() * 250)), 100);
  let seen = 0;
  const errors = setInterval(() => {
    // Aim at the share of the calls HaloPSA received since the last check.
    const total = [...sim.statusCounts.values()].reduce((a, b) => a + b, 0);
    const owed = Math.round((total - seen) * HALO_ERROR_SHARE);
    if (owed === 0) return;
    seen = total;
    for (let i = 0; i < owed; i++) {
      const which = pick(["500", "503", "429"] as const)!;
      injected[which]!++;
      if (which === "429") sim.faults.rateLimitNext(1);
      else sim.faults.failNext(1, { status: Number(which) });
    }
  }, 1000);
  return {
    injected,
    stop() {
      clearInterval(latency);
      clearInterval(errors);
    },
  };
}

export async function runSoakBench(): Promise<BenchReport> {
  const sim = await startHaloPsaSimulator({ rateLimit: null });
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-soak-"));
  const dbFile = join(dir, "bridge.db");
  const port = await freePort();
  // Production defaults, except: no client-side HaloPSA budget (hosted Halo's 300 per 5 minutes
  // would make the drain time a measure of that budget, not of the bridge), no reconcile timer, and
  // no deprovision limit: the mix deactivates and removes a few users a second, and past the
  // limit's 10 an hour they would wait for an admin instead of reaching HaloPSA.
  const provisioning = { reconcileIntervalMinutes: 0, deprovisionLimit: { count: 0 } };
  writeFileSync(join(dir, "config.json"), JSON.stringify({ provisioning, halopsa: { rateLimit: null, timeoutSeconds: 10 } }));
  const child = fork(join(here, "soak-server.js"), [], {
    execArgv: ["--expose-gc"],
    env: {
      PATH: process.env["PATH"] ?? "",
      PORT: String(port),
      HOST: "127.0.0.1",
      ...(SNAPSHOT_DIR === undefined ? {} : { SOAK_HEAP_SNAPSHOT_DIR: SNAPSHOT_DIR }),
      SCIM_BRIDGE_DB: dbFile,
      SCIM_BRIDGE_CONFIG: join(dir, "config.json"),
      SCIM_BRIDGE_SCIM_TOKEN: TOKEN,
      SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
      HALOPSA_URL: sim.url,
      HALOPSA_CLIENT_ID: sim.clientId,
      HALOPSA_CLIENT_SECRET: sim.clientSecret,
    },
    // The bridge's JSON log lines go to /dev/null: written (and paid for), not kept.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  try {
    await new Promise((resolve) => child.once("message", resolve));
    const base = `http://127.0.0.1:${port}/scim/v2`;
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json" };
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
    };
    const pool = new Pool();
    const userBody = (n: number) => {
      const email = `soak.${n}@example.com`;
      return {
        schemas: [CORE_USER, ENTERPRISE],
        externalId: `soak${n}`,
        userName: email,
        active: true,
        displayName: `Soak ${n}`,
        emails: [{ primary: true, type: "work", value: email }],
        name: { formatted: `Soak ${n}`, familyName: String(n), givenName: "Soak" },
        [ENTERPRISE]: { department: "Service Desk" },
      };
    };

    // Seed (not measured): users and the two mapped groups, paced under the inbound rate limit.
    const groupIds = new Map<string, string>();
    for (const g of GROUPS) groupIds.set(g, (await call("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName: g })).json.id);
    for (let i = 0; i < SEED_USERS; i++) {
      const r = await call("POST", "/Users", userBody(pool.created++));
      if (r.status !== 201) throw new Error(`seeding answered ${r.status}`);
      pool.users.set(r.json.id, r.json.userName);
      await sleep(30);
    }

    const outcomes: Outcome[] = [];
    const send = async (kind: Kind, due: number, method: string, path: string, body: unknown, accept: (json: any) => void, lock?: string): Promise<void> => {
      if (lock) pool.busy.add(lock);
      try {
        const r = await call(method, path, body);
        const ok = r.status >= 200 && r.status < 300;
        if (ok) accept(r.json);
        outcomes.push({ kind, ms: performance.now() - due, ok, ...(ok ? {} : { detail: `${method} ${path} → ${r.status} ${JSON.stringify(r.json)?.slice(0, 200)}` }) });
      } catch (e: unknown) {
        outcomes.push({ kind, ms: performance.now() - due, ok: false, detail: `${method} ${path} → ${e instanceof Error ? e.message : String(e)}` });
      } finally {
        if (lock) pool.busy.delete(lock);
      }
    };
    const mixTable = Object.entries(MIX).flatMap(([k, n]) => Array<Kind>(n).fill(k as Kind));
    let flip = 0;

    /** One request of the mix, sent now; falls back to a read when no user is free for a write. */
    const fire = (due: number): Promise<void> => {
      const kind = pick(mixTable)!;
      const groupOf = () => pick(GROUPS)!;
      if (kind === "getPage") return send(kind, due, "GET", `/Users?startIndex=${1 + Math.floor(Math.random() * pool.users.size)}&count=50`, undefined, () => undefined);
      if (kind === "createUser") {
        const n = pool.created++;
        return send(kind, due, "POST", "/Users", userBody(n), (u) => pool.users.set(u.id, u.userName));
      }
      if (kind === "removeMember") {
        const m = pool.idleMember();
        if (m) {
          const value = [{ value: m.id }];
          return send(kind, due, "PATCH", `/Groups/${groupIds.get(m.group)}`, { schemas: [PATCH_OP], Operations: [{ op: "Remove", path: "members", value }] }, () => pool.members.get(m.group)!.delete(m.id), m.id);
        }
      }
      const id = kind === "getByFilter" ? undefined : pool.idleUser();
      if (id !== undefined && kind === "addMember") {
        const g = groupOf();
        return send(kind, due, "PATCH", `/Groups/${groupIds.get(g)}`, { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ value: id }] }] }, () => pool.members.get(g)!.add(id), id);
      }
      if (id !== undefined && kind === "patchUser") {
        // Entra's default dialect: capitalised op, booleans as strings; now and then a deactivation or reactivation.
        const ops: unknown[] = [{ op: "Replace", path: "displayName", value: `Soak ${id.slice(0, 8)} ${flip}` }];
        if (flip++ % 5 === 0) ops.push({ op: "Replace", path: "active", value: flip % 2 === 0 ? "False" : "True" });
        return send(kind, due, "PATCH", `/Users/${id}`, { schemas: [PATCH_OP], Operations: ops }, () => undefined, id);
      }
      if (id !== undefined && kind === "deleteUser") {
        // Gone from the pool before the request, so nothing else targets it.
        pool.users.delete(id);
        for (const m of pool.members.values()) m.delete(id);
        return send(kind, due, "DELETE", `/Users/${id}`, undefined, () => undefined, id);
      }
      const userName = pick([...pool.users.values()]) ?? "nobody@example.com";
      return send("getByFilter", due, "GET", `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, undefined, () => undefined);
    };

    const samples: (SoakSample & { t: number })[] = [];
    const t0 = performance.now();
    samples.push({ t: 0, ...(await ask<SoakSample>(child, "sample")) });
    const chaos = haloChaos(sim);
    // One question to the child at a time: its answers are matched to questions by order.
    let sampling = Promise.resolve();
    let progressMark = 0;
    const sampler = setInterval(() => {
      sampling = sampling.then(async () => {
        const s = { t: (performance.now() - t0) / 1000, ...(await ask<SoakSample>(child, "sample")) };
        samples.push(s);
        // A line every 5 minutes on stderr, so a long run can be watched.
        if (s.t >= progressMark + 300) {
          progressMark += 300;
          const errors = outcomes.filter((o) => !o.ok).length;
          console.error(`soak ${Math.round(s.t)} s: heap after GC ${mib(s.heapUsedBytes)} MiB, RSS ${mib(s.rssBytes)} MiB, ${s.pendingJobs} jobs pending, ${outcomes.length} requests, ${errors} errors`);
        }
      });
    }, SAMPLE_EVERY_MS);
    const snapshots: string[] = [];
    const snapshot = () => ask<{ file: string }>(child, "snapshot").then(({ file }) => void snapshots.push(file));
    // Not SCIM, but a deployment sends them all day: /metrics rebuilds gauges from the database at each scrape.
    const probe = async (path: string, headers: Record<string, string>) => {
      const started = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
        await res.arrayBuffer();
        outcomes.push({ kind: "probe", ms: performance.now() - started, ok: res.status === 200, ...(res.status === 200 ? {} : { detail: `GET ${path} → ${res.status}` }) });
      } catch (e: unknown) {
        outcomes.push({ kind: "probe", ms: performance.now() - started, ok: false, detail: `GET ${path} → ${e instanceof Error ? e.message : String(e)}` });
      }
    };
    const prober = setInterval(() => void Promise.all([probe("/metrics", { authorization: `Bearer ${ADMIN_TOKEN}` }), probe("/readyz", {})]), PROBE_SECONDS * 1000);
    const windowSnapshot = SNAPSHOT_DIR === undefined ? undefined : setTimeout(() => void (sampling = sampling.then(snapshot)), (SECONDS * 1000) / 3);

    // The open loop.
    const inflight = new Set<Promise<void>>();
    let maxLagMs = 0;
    for (let n = 0; ; n++) {
      const due = t0 + (n * 1000) / RATE;
      if (due - t0 >= SECONDS * 1000) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      maxLagMs = Math.max(maxLagMs, performance.now() - due);
      const p = fire(due);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await Promise.all(inflight);
    clearInterval(prober);
    const loadSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    clearTimeout(windowSnapshot);
    await sampling;
    if (SNAPSHOT_DIR !== undefined) await snapshot();
    const atStop = await ask<SoakSample>(child, "sample");
    samples.push({ t: loadSeconds, ...atStop });

    // Drain: HaloPSA keeps misbehaving until the queue is empty.
    const drainStart = performance.now();
    let last = atStop;
    while (last.pendingJobs > 0 && performance.now() - drainStart < DRAIN_TIMEOUT_MS) {
      await sleep(500);
      last = await ask<SoakSample>(child, "sample");
    }
    const drainSeconds = Math.round((performance.now() - drainStart) / 100) / 10;
    chaos.stop();
    const end = { t: (performance.now() - t0) / 1000, ...last };

    // Does HaloPSA now match the directory? Active users in a mapped group have an enabled agent, nobody else does.
    const wanted = (() => {
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare("SELECT DISTINCT lower(u.user_name) FROM users u JOIN group_members m ON m.user_pk = u.pk JOIN groups g ON g.pk = m.group_pk WHERE u.active = 1 AND g.display_name IN (?, ?)")
          .pluck()
          .all(...GROUPS) as string[];
        return rows.sort();
      } finally {
        db.close();
      }
    })();
    const enabled = [...sim.state.agents.values()].filter((a) => !a.isapiagent && !a.isdisabled).map((a) => a.email.toLowerCase()).sort();
    const haloMatches = last.pendingJobs === 0 && JSON.stringify(wanted) === JSON.stringify(enabled);
    // When it does not match, who differs (the first few each way).
    const haloMismatch = { enabledNotWanted: enabled.filter((e) => !wanted.includes(e)).slice(0, 10), wantedNotEnabled: wanted.filter((w) => !enabled.includes(w)).slice(0, 10) };

    const row = (label: string, os: readonly Outcome[]) => {
      const ms = os.map((o) => o.ms).sort((a, b) => a - b);
      return {
        requests: label,
        sent: os.length,
        errors: os.filter((o) => !o.ok).length,
        p50Ms: Math.round(percentile(ms, 50) * 10) / 10,
        p99Ms: Math.round(percentile(ms, 99) * 10) / 10,
        maxMs: Math.round((ms[ms.length - 1] ?? 0) * 10) / 10,
      };
    };
    const scim = outcomes.filter((o) => o.kind !== "probe");
    const probes = row("probes: /metrics, /readyz", outcomes.filter((o) => o.kind === "probe"));
    const rows = [row("all SCIM", scim), ...Object.keys(MIX).map((k) => row(k, outcomes.filter((o) => o.kind === k))), probes];
    const all = rows[0]!;
    const errors = all.errors + probes.errors;
    const errorRate = all.sent === 0 ? 1 : all.errors / all.sent;
    const memory: MemorySample[] = samples.map((s) => ({ t: s.t, heapMiB: mib(s.heapUsedBytes), codeMiB: mib(s.codeBytes), rssMiB: mib(s.rssBytes), pendingJobs: s.pendingJobs }));
    const heap = heapWindow(memory, loadSeconds);
    const inWindow = memory.filter((s) => s.t >= heap.fromSeconds);
    const rssSlope = slope(inWindow.map((s) => [s.t / 3600, s.rssMiB]));
    const heapAt = (s: number) => memory.reduce((best, m) => (Math.abs(m.t - s) < Math.abs(best.t - s) ? m : best)).heapMiB;
    const heapEvery10Minutes = Object.fromEntries(Array.from({ length: Math.floor(Math.round(loadSeconds) / 600) }, (_, i) => [`${(i + 1) * 10} min`, heapAt((i + 1) * 600)]));
    const windowText = `${Math.round(heap.fromSeconds / 60)}–${Math.round(heap.toSeconds / 60)} min`;
    const judged = loadSeconds >= JUDGED_RUN_SECONDS;
    const first = samples[0]!;
    const haloStatuses = Object.fromEntries([...sim.statusCounts].sort(([a], [b]) => a - b).map(([s, n]) => [String(s), n]));
    const targets = [
      { target: "error rate 0 (every answer 2xx, no network error)", value: `${all.errors} of ${all.sent}`, pass: all.errors === 0 },
      { target: `every probe answered 200 (/metrics and /readyz every ${PROBE_SECONDS} s)`, value: `${probes.errors} of ${probes.sent} failed`, pass: probes.errors === 0 },
      { target: `achieved rate ≥ 99% of ${RATE}/s (open loop)`, value: `${(all.sent / loadSeconds).toFixed(2)}/s, max send lag ${Math.round(maxLagMs)} ms`, pass: all.sent / loadSeconds >= 0.99 * RATE },
      { target: "SCIM p99 ≤ 100 ms with HaloPSA slow and failing", value: `${all.p99Ms} ms`, pass: all.p99Ms <= 100 },
      {
        target: `heap after GC over the last two thirds (${windowText}) grows ≤ ${MAX_HEAP_SLOPE_MIB_PER_HOUR} MiB/h${judged ? "" : " (judged on runs of 60 min or more)"}`,
        value: `${heap.mibPerHour.toFixed(2)} MiB/h over ${heap.samples} samples (${mib(first.heapUsedBytes)} → ${mib(atStop.heapUsedBytes)} MiB in the load)`,
        pass: heap.mibPerHour <= MAX_HEAP_SLOPE_MIB_PER_HOUR,
      },
      { target: "queue drains ≤ 120 s after the load stops", value: `${atStop.pendingJobs} pending → 0 in ${drainSeconds} s`, pass: last.pendingJobs === 0 && drainSeconds <= 120 },
      { target: "no dead letters", value: String(end.deadJobs), pass: end.deadJobs === 0 },
      { target: "HaloPSA matches the directory after the drain", value: `${enabled.length} enabled agents, ${wanted.length} wanted`, pass: haloMatches },
    ];
    return {
      name: "soak",
      summary:
        `${RATE} req/s open loop for ${SECONDS} s over ${SEED_USERS} seeded users; HaloPSA latency 50–300 ms, ${HALO_ERROR_SHARE * 100}% of its calls failed ` +
        `(injected ${JSON.stringify(chaos.injected)}); RSS ${mib(first.rssBytes)} → ${mib(end.rssBytes)} MiB (${rssSlope.toFixed(1)} MiB/h over ${windowText})`,
      rows,
      timeline: timeline(memory, heap),
      targets,
      extra: {
        node: process.version,
        seconds: SECONDS,
        rate: RATE,
        errorRate,
        firstErrors: outcomes.filter((o) => !o.ok).slice(0, 10).map((o) => o.detail),
        haloStatuses,
        ...(haloMatches ? {} : { haloMismatch }),
        injected: chaos.injected,
        samples: [...samples, end].map((s) => ({ t: Math.round(s.t), rssMiB: mib(s.rssBytes), heapMiB: mib(s.heapUsedBytes), codeMiB: mib(s.codeBytes), pendingJobs: s.pendingJobs, deadJobs: s.deadJobs, gcForced: s.gcForced })),
        heapSlopeWindowSeconds: [heap.fromSeconds, heap.toSeconds],
        heapSlopeMiBPerHour: heap.mibPerHour,
        rssSlopeMiBPerHour: rssSlope,
        heapEvery10Minutes,
        snapshots,
        drainSeconds,
      },
      failed: soakFailed(errors, loadSeconds, heap),
      failure: errors > 0 ? "some requests failed" : `heap after GC grew ${heap.mibPerHour.toFixed(2)} MiB/h over ${windowText}, above ${MAX_HEAP_SLOPE_MIB_PER_HOUR} MiB/h`,
    };
  } finally {
    // A graceful stop (it closes the database), forced after 10 s.
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", resolve));
    if (child.connected) child.send("stop");
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(force);
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench -- scale`: the bridge on a large directory (issue 13, "Scale"). Seeds SCALE_USERS
 * users (default 100,000) and SCALE_GROUPS groups (default 2,000; the first has SCALE_BIG_GROUP
 * members, default 20,000; the others 50 each) straight through the directory store in big
 * transactions, then starts the real bridge (`node dist/src/main.js`, production defaults, the
 * HaloPSA simulator as its app) and measures: spawn to /readyz 200, single requests that read
 * the whole directory or a huge group (health, metrics, status, the 20,000-member group), `userName eq`
 * at 20 connections, startIndex and cursor pages at the start, middle and end, and resident memory
 * after a full cursor walk.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "../src/clock.js";
import { appsAndRules, loadConfig } from "../src/config.js";
import { BridgeState } from "../src/db/bridge-state.js";
import { openDatabase } from "../src/db/database.js";
import { Directory } from "../src/db/directory.js";
import { startHaloPsaSimulator } from "../src/dev/halopsa-simulator.js";
import { rulesFingerprint } from "../src/provisioning/rules-change.js";
import { DURATION_S, load, WARMUP_S, type LoadRow } from "./load.js";
import type { BenchReport } from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const USERS = Number(process.env["SCALE_USERS"] ?? 100_000);
const GROUPS = Number(process.env["SCALE_GROUPS"] ?? 2_000);
const BIG_GROUP = Math.min(USERS, Number(process.env["SCALE_BIG_GROUP"] ?? 20_000));
const OTHER_GROUP_MEMBERS = 50;
/** Users and memberships written per transaction while seeding. */
const SEED_BATCH = 10_000;
const SCIM_TOKEN = "scale-scim-token-0123456789abcdef";
/**
 * Cursor pages are loaded at 20 connections, as every other scenario, and at 4: a cursor walk is
 * sequential (each page needs the one before), so 4 connections is four importers walking at once.
 */
const CURSOR_CONNECTIONS = [20, 4] as const;
const ADMIN_TOKEN = "scale-admin-token-0123456789abcdef";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writes the directory through the store; returns the users' and groups' SCIM ids. */
function seed(file: string, env: Record<string, string>): { userIds: string[]; groupIds: string[]; seedMs: number } {
  const started = performance.now();
  const db = openDatabase(file);
  const directory = new Directory(db, systemClock);
  const userIds: string[] = [];
  for (let from = 0; from < USERS; from += SEED_BATCH) {
    directory.write(() => {
      for (let i = from; i < Math.min(USERS, from + SEED_BATCH); i++) {
        const userName = `user${i}@example.com`;
        userIds.push(
          directory.insertUser({
            userName,
            externalId: `ext-${i}`,
            name: { givenName: `Given${i}`, familyName: `Family${i}` },
            displayName: `Given${i} Family${i}`,
            active: true,
            emails: [{ value: userName, type: "work", primary: true }],
          }).id,
        );
      }
    });
  }
  const groupIds: string[] = [];
  directory.write(() => {
    for (let g = 0; g < GROUPS; g++) {
      const group = directory.insertGroup({ displayName: `Group ${g}` });
      groupIds.push(group.id);
      const from = g === 0 ? 0 : (g * OTHER_GROUP_MEMBERS) % Math.max(1, USERS - OTHER_GROUP_MEMBERS);
      directory.addMembers(group.pk, { ids: userIds.slice(from, from + (g === 0 ? BIG_GROUP : OTHER_GROUP_MEMBERS)) });
    }
  });
  // The directory grew while the bridge ran with these apps and rules (as in production, where
  // the IdP fills it through SCIM): the start measured is a restart, not a first re-plan of everyone.
  const { apps, rules } = appsAndRules(loadConfig(env));
  new BridgeState(db, systemClock).set("rules-fingerprint", rulesFingerprint(apps, rules));
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return { userIds, groupIds, seedMs: performance.now() - started };
}

/** Resident memory of the bridge as the kernel counts it (Linux: /proc). */
function rssOf(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

async function untilReady(base: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bridge exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One request, timed; the answer's size says what was served. */
async function probe(name: string, url: string, token: string): Promise<{ probe: string; status: number; ms: number; bytes: number }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.arrayBuffer();
  return { probe: name, status: res.status, ms: Math.round(performance.now() - started), bytes: body.byteLength };
}

function loadPath(scenario: string, origin: string, connections: number, path: () => string): Promise<LoadRow> {
  return load({ scenario, url: origin, connections, headers: { authorization: `Bearer ${SCIM_TOKEN}` }, setupRequest: (req) => ({ ...req, path: path() }) });
}

/**
 * Reads the whole directory by RFC 9865 cursor, 100 users a page, as an IdP's import does, and
 * keeps the cursors that start the pages at `offsets` (0 = the first page) for the load below.
 */
async function walkUsers(scim: string, offsets: readonly number[]): Promise<{ pages: number; users: number; cursors: Map<number, string> }> {
  const cursors = new Map<number, string>();
  let cursor = "";
  let users = 0;
  let pages = 0;
  for (;;) {
    if (offsets.includes(users)) cursors.set(users, cursor);
    const res = await fetch(`${scim}/Users?count=100&cursor=${cursor}`, { headers: { authorization: `Bearer ${SCIM_TOKEN}` } });
    if (res.status !== 200) throw new Error(`walk: page after ${users} users answered ${res.status}`);
    const body = (await res.json()) as { Resources?: unknown[]; nextCursor?: string };
    users += body.Resources?.length ?? 0;
    pages++;
    if (body.nextCursor === undefined) return { pages, users, cursors };
    cursor = body.nextCursor;
  }
}

export async function runScaleBench(): Promise<BenchReport> {
  const sim = await startHaloPsaSimulator({ rateLimit: null });
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-scale-"));
  const port = await freePort();
  // Production defaults, except no client-side HaloPSA budget, no reconcile timer and no inbound
  // rate limit (one load generator on one address measures the bridge, not its limiter).
  writeFileSync(join(dir, "config.json"), JSON.stringify({ provisioning: { reconcileIntervalMinutes: 0 }, halopsa: { rateLimit: null, timeoutSeconds: 10 } }));
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    PORT: String(port),
    HOST: "127.0.0.1",
    SCIM_BRIDGE_DB: join(dir, "bridge.db"),
    SCIM_BRIDGE_CONFIG: join(dir, "config.json"),
    SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN,
    SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0",
    SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0",
    HALOPSA_URL: sim.url,
    HALOPSA_CLIENT_ID: sim.clientId,
    HALOPSA_CLIENT_SECRET: sim.clientSecret,
  };
  const { userIds, groupIds, seedMs } = seed(env["SCIM_BRIDGE_DB"]!, env);
  const origin = `http://127.0.0.1:${port}`;
  const scim = `${origin}/scim/v2`;
  const spawnedAt = performance.now();
  // The bridge's JSON log lines go to /dev/null: written (and paid for), not kept.
  const child = spawn(process.execPath, [join(here, "..", "src", "main.js")], { env, stdio: ["ignore", "ignore", "inherit"] });
  try {
    await untilReady(origin, child);
    const readyMs = performance.now() - spawnedAt;
    const rssReady = rssOf(child);
    const big = groupIds[0]!;
    const probes = [
      await probe("GET /healthz", `${origin}/healthz`, SCIM_TOKEN),
      await probe("GET /metrics", `${origin}/metrics`, ADMIN_TOKEN),
      await probe("GET /admin/api/status", `${origin}/admin/api/status`, ADMIN_TOKEN),
      await probe(`GET /Groups/:id (${BIG_GROUP} members)`, `${scim}/Groups/${big}`, SCIM_TOKEN),
      await probe("GET /Groups/:id excludedAttributes=members", `${scim}/Groups/${big}?excludedAttributes=members`, SCIM_TOKEN),
      await probe("GET /Users/:id (last user)", `${scim}/Users/${userIds.at(-1)!}`, SCIM_TOKEN),
    ];
    const random = () => Math.floor(Math.random() * USERS);
    const rows: LoadRow[] = [];
    rows.push(await loadPath("GET /Users?filter=userName eq", origin, 20, () => `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "user${random()}@example.com"`)}`));
    const depths = [
      ["start", 0],
      ["middle", Math.floor(USERS / 200) * 100],
      ["end", Math.max(0, Math.ceil(USERS / 100) * 100 - 100)],
    ] as const;
    for (const [depth, at] of depths) {
      rows.push(await loadPath(`GET /Users page of 100 by startIndex, ${depth}`, origin, 10, () => `/scim/v2/Users?startIndex=${at + 1}&count=100`));
    }
    const walk = await walkUsers(scim, depths.map(([, at]) => at));
    const rssWalked = rssOf(child);
    for (const [depth, at] of depths) {
      const cursor = walk.cursors.get(at)!;
      for (const connections of CURSOR_CONNECTIONS) {
        rows.push(await loadPath(`GET /Users cursor page of 100, ${depth}`, origin, connections, () => `/scim/v2/Users?count=100&cursor=${cursor}`));
      }
    }
    const rssEnd = rssOf(child);

    const eq = rows[0]!;
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    const targets = [
      { target: `userName eq p99 ≤ 15 ms at 20 connections (${USERS} users)`, value: `${eq.p99Ms} ms (${eq.reqPerSec} req/s)`, pass: eq.p99Ms <= 15 },
      ...CURSOR_CONNECTIONS.map((connections) => {
        const pages = rows.filter((r) => r.scenario.includes("cursor page") && r.connections === connections);
        return {
          target: `cursor page of 100 p99 ≤ 50 ms at start, middle and end (${connections} connections)`,
          value: pages.map((r) => `${r.p99Ms} ms`).join(" / "),
          pass: pages.every((r) => r.p99Ms <= 50),
        };
      }),
      {
        target: "resident memory after seeding and a full cursor walk ≤ 300 MB",
        value: `${mib(rssWalked)} MiB (${walk.users} users in ${walk.pages} pages; ${mib(rssEnd)} MiB after all loads)`,
        pass: rssWalked <= 300e6 && walk.users === USERS,
      },
      { target: "spawn to /readyz 200 ≤ 3 s", value: `${Math.round(readyMs)} ms`, pass: readyMs <= 3000 },
    ];
    return {
      name: "scale",
      summary: `${USERS} users, ${GROUPS} groups (largest ${BIG_GROUP} members) seeded in ${Math.round(seedMs)} ms; ready in ${Math.round(readyMs)} ms at ${mib(rssReady)} MiB; ${DURATION_S} s per load after ${WARMUP_S} s of warm-up`,
      rows: [...rows, ...probes],
      targets,
      extra: { node: process.version, users: USERS, groups: GROUPS, bigGroup: BIG_GROUP, seedMs, readyMs, rssReadyBytes: rssReady, rssAfterWalkBytes: rssWalked, rssEndBytes: rssEnd, walk: { pages: walk.pages, users: walk.users } },
      failed: rows.some((r) => r.errors > 0 || r.non2xx > 0) || probes.some((p) => p.status !== 200),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

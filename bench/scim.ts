/**
 * SCIM server throughput and latency on loopback. Seeds 10,000 users (BENCH_SCIM_USERS; issue 13's
 * scale target is 100,000), a 10-member and a 10,000-member group in a child process, drives it
 * with autocannon, and checks the targets of the SCIM issue against a bare express + SQLite
 * ceiling (a third process reading the same SQLite file) measured in the same run.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DURATION_S, load, WARMUP_S, type LoadRow, type SetupRequest } from "./load.js";
import type { BenchReport } from "./report.js";
import type { CeilingReady } from "./ceiling.js";
import type { BenchServerReady } from "./server.js";

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN = "bench-token-0123456789abcdefghij";
const USERS = Number(process.env["BENCH_SCIM_USERS"] ?? 10_000);
/** Issue 13: a page of 100 by cursor, p99 at every depth of a 100,000-user directory. */
const CURSOR_PAGE_P99_MS = 50;

const HEADERS = { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json" };

function run(scenario: string, url: string, connections: number, setupRequest: SetupRequest): Promise<LoadRow> {
  return load({ scenario, url, connections, headers: HEADERS, setupRequest });
}

/**
 * RFC 9865 cursors positioned after `offsets` users (0 = the first page), found by one forward walk
 * in pages of up to 1,000: the walk itself is the "full cursor walk" the memory target reads after.
 */
async function cursorsAt(scim: string, offsets: readonly number[]): Promise<string[]> {
  const cursors: string[] = [];
  let cursor = "";
  let done = 0;
  for (const offset of offsets) {
    while (done < offset) {
      const count = Math.min(1000, offset - done);
      const res = await fetch(`${scim}/Users?count=${count}&cursor=${cursor}&attributes=id`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.json()) as { nextCursor?: string; itemsPerPage: number };
      if (!res.ok || body.nextCursor === undefined) throw new Error(`cursor walk stopped after ${done} users (HTTP ${res.status})`);
      cursor = body.nextCursor;
      done += body.itemsPerPage;
    }
    cursors.push(cursor);
  }
  return cursors;
}

function randomUser(n: number): string {
  return `user${Math.floor(Math.random() * n)}@example.com`;
}

/** Forks a bench process and waits for its first IPC message. stdout is discarded (the bridge's log). */
async function forkReady<T>(script: string, env: Record<string, string>, extraExecArgv: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const execArgv = [...process.execArgv, ...extraExecArgv];
  const child = fork(join(here, script), [], { env: { ...process.env, ...env }, execArgv, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

export async function runScimBench(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), "scim-bench-"));
  const env = { BENCH_TOKEN: TOKEN, BENCH_USERS: String(USERS), BENCH_DB: join(dir, "bench.db") };
  // BENCH_PROFILE=1: the bridge writes a CPU profile into BENCH_PROFILE_DIR (bench/profile-summary.ts reads it).
  const profile = process.env["BENCH_PROFILE"] === "1" ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROFILE_DIR"] ?? dir}`] : [];
  const { child, ready } = await forkReady<BenchServerReady>("server.js", env, profile);
  const ceiling = await forkReady<CeilingReady>("ceiling.js", env);
  const scim = `http://127.0.0.1:${ready.port}/scim/v2`;
  const users = ready.userIds.length;
  let created = 0;
  let flip = 0;
  const memberPatch =
    (groupId: string): SetupRequest =>
    (req) => {
      // Alternate add and remove of one member drawn from users outside the first 10,000... or inside:
      // both are single-row changes, which is what the target compares.
      const id = ready.userIds[Math.floor(Math.random() * users)]!;
      const op = flip++ % 2 === 0 ? { op: "add", path: "members", value: [{ value: id }] } : { op: "remove", path: `members[value eq "${id}"]` };
      return {
        ...req,
        method: "PATCH",
        path: `/scim/v2/Groups/${groupId}`,
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [op] }),
      };
    };

  const rows: LoadRow[] = [];
  rows.push(
    await run("bare express + SQLite lookup (ceiling)", `http://127.0.0.1:${ceiling.ready.port}`, 20, (req) => ({
      ...req,
      path: `/bare/users?userName=${encodeURIComponent(randomUser(users))}`,
    })),
  );
  rows.push(
    await run("GET /Users?filter=userName eq", scim, 20, (req) => ({
      ...req,
      path: `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${randomUser(users)}"`)}`,
    })),
  );
  rows.push(
    await run("GET /Users page of 100", scim, 20, (req) => ({
      ...req,
      path: `/scim/v2/Users?startIndex=${1 + Math.floor(Math.random() * (users - 100))}&count=100`,
    })),
  );
  const depths = [
    { name: "start", offset: 0 },
    { name: "middle", offset: Math.floor(users / 2) },
    { name: "end", offset: users - 100 },
  ];
  const cursors = await cursorsAt(scim, depths.map((d) => d.offset));
  for (const [i, depth] of depths.entries()) {
    rows.push(
      await run(`GET /Users cursor page of 100 at ${depth.name}`, scim, 20, (req) => ({ ...req, path: `/scim/v2/Users?count=100&cursor=${cursors[i]!}` })),
    );
  }
  rows.push(
    await run("POST /Users", scim, 10, (req) => ({
      ...req,
      method: "POST",
      path: "/scim/v2/Users",
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: `new${created++}-${Date.now()}@example.com`,
        name: { givenName: "New", familyName: "User" },
        emails: [{ value: `new${created}@example.com`, type: "work", primary: true }],
        active: true,
      }),
    })),
  );
  rows.push(await run("PATCH member, 10-member group", scim, 10, memberPatch(ready.smallGroupId)));
  rows.push(await run("PATCH member, 10,000-member group", scim, 10, memberPatch(ready.bigGroupId)));

  child.send("memory");
  const memory = await new Promise<{ rss: number }>((resolve) => child.once("message", (m) => resolve(m as { rss: number })));
  child.send("stop");
  ceiling.child.send("stop");
  await Promise.all([child, ceiling.child].map((c) => new Promise((resolve) => c.once("exit", resolve))));
  rmSync(dir, { recursive: true, force: true });

  const byName = (s: string) => rows.find((r) => r.scenario.startsWith(s))!;
  const bareRate = byName("bare").reqPerSec;
  const eqRate = byName("GET /Users?filter").reqPerSec;
  const page = byName("GET /Users page");
  const small = byName("PATCH member, 10-");
  const big = byName("PATCH member, 10,000");
  const cursorPages = rows.filter((r) => r.scenario.includes("cursor page"));
  const targets = [
    {
      target: `cursor page of 100 p99 ≤ ${CURSOR_PAGE_P99_MS} ms at start, middle and end (${users} users)`,
      value: cursorPages.map((r) => `${r.p99Ms} ms`).join(" / "),
      pass: cursorPages.every((r) => r.p99Ms <= CURSOR_PAGE_P99_MS),
    },
    {
      target: "userName eq ≥ 0.5× the bare express + SQLite ceiling (20 connections)",
      value: `${(eqRate / bareRate).toFixed(2)}× (${eqRate} vs ${bareRate} req/s)`,
      pass: eqRate >= 0.5 * bareRate,
    },
    { target: "page of 100 p99 ≤ 100 ms (20 connections)", value: `${page.p99Ms} ms`, pass: page.p99Ms <= 100 },
    {
      target: "member PATCH big/small p99 ≤ 1.5×",
      value: `${(big.p99Ms / Math.max(small.p99Ms, 1)).toFixed(2)}× (req/s ${big.reqPerSec} vs ${small.reqPerSec})`,
      pass: big.p99Ms <= 1.5 * Math.max(small.p99Ms, 1) && big.reqPerSec >= small.reqPerSec / 1.5,
    },
  ];

  return {
    name: "scim",
    summary: `Seeded ${users} users + groups of 10 and 10,000 in ${Math.round(ready.seedMs)} ms; ${DURATION_S} s per scenario after ${WARMUP_S} s of warm-up; server RSS ${Math.round(memory.rss / 2 ** 20)} MiB`,
    rows,
    targets,
    extra: { node: process.version, durationSeconds: DURATION_S, warmupSeconds: WARMUP_S, seedMs: ready.seedMs, serverRssBytes: memory.rss },
    // Errors in the load itself make the figures meaningless.
    failed: rows.some((r) => r.errors > 0 || r.non2xx > 0),
  };
}

/**
 * Provisioning: 1,000 users join a mapped group through SCIM (one PATCH per member, 10 at a time),
 * against the real bridge as a child process and the HaloPSA simulator in this process.
 * Measures the SCIM answer latency (it must not depend on HaloPSA), the time until every agent
 * exists in the simulator, and HaloPSA calls per agent; once with no rate limit and once with
 * hosted Halo's 300 requests per rolling 5 minutes.
 *
 * The rate-limited run is time-compressed 60× (300 per 5 s on the simulator, the client's
 * 270 per 5 s budget likewise) so it finishes in about a minute; its duration is also reported
 * scaled back to real time. Calls per agent do not depend on the compression.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../src/dev/halopsa-simulator.js";
import type { BenchReport } from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const USERS = Number(process.env["BENCH_PROVISION_USERS"] ?? 1000);
const CONCURRENCY = 10;
const COMPRESSION = 60;
const TOKEN = "bench-scim-token-0123456789abcdef";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the bridge");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `count` requests, `CONCURRENCY` at a time; returns each one's latency in ms. */
async function timed(count: number, request: (i: number) => Promise<Response>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        const res = await request(i);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`SCIM request ${i} answered ${res.status}`);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

interface Scenario {
  readonly name: string;
  readonly rateLimited: boolean;
}

async function runScenario(s: Scenario): Promise<Record<string, unknown>> {
  const windowMs = (5 * 60_000) / COMPRESSION;
  const sim: HaloPsaSimulator = await startHaloPsaSimulator({ rateLimit: s.rateLimited ? { requests: 300, windowMs } : null });
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-bench-"));
  const port = await freePort();
  const config = {
    // The inbound SCIM limits are not what this measures: the IdP's load is the input here.
    rateLimit: { perToken: 0, perAddress: 0 },
    provisioning: { workerConcurrency: 4, reconcileIntervalMinutes: 0, backoffBaseSeconds: 0.5, maxBackoffSeconds: 5 },
    halopsa: { rateLimit: s.rateLimited ? { requests: 270, windowSeconds: windowMs / 1000 } : null, timeoutSeconds: 10 },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, [join(here, "..", "src", "main.js")], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        SCIM_BRIDGE_DB: join(dir, "bridge.db"),
        SCIM_BRIDGE_CONFIG: join(dir, "config.json"),
        SCIM_BRIDGE_SCIM_TOKEN: TOKEN,
        HALOPSA_URL: sim.url,
        HALOPSA_CLIENT_ID: sim.clientId,
        HALOPSA_CLIENT_SECRET: sim.clientSecret,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const base = `http://127.0.0.1:${port}/scim/v2`;
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/scim+json" };
    await until(() => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false), 20_000);

    const ids: string[] = [];
    await timed(USERS, async (i) => {
      const res = await fetch(`${base}/Users`, {
        method: "POST",
        headers,
        body: JSON.stringify({ userName: `member${i}@example.com`, name: { givenName: "Member", familyName: String(i) }, emails: [{ value: `member${i}@example.com`, primary: true }] }),
      });
      ids[i] = ((await res.clone().json()) as { id: string }).id;
      return res;
    });
    const group = (await (await fetch(`${base}/Groups`, { method: "POST", headers, body: JSON.stringify({ displayName: "HaloPSA Agents" }) })).json()) as { id: string };
    const agentsBefore = sim.state.agents.size;
    sim.resetCounts();

    const started = performance.now();
    const latencies = await timed(USERS, (i) =>
      fetch(`${base}/Groups/${group.id}`, {
        method: "PATCH",
        headers,
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: ids[i] }] }] }),
      }),
    );
    const answeredMs = performance.now() - started;
    await until(() => sim.state.agents.size - agentsBefore >= USERS, 15 * 60_000);
    const convergedMs = performance.now() - started;

    const apiCalls = [...sim.requestCounts].filter(([k]) => k.includes(" /api/")).reduce((n, [, v]) => n + v, 0);
    const catalogueCalls = sim.requestCount("GET", "/api/Team") + sim.requestCount("GET", "/api/Roles");
    return {
      scenario: s.name,
      users: USERS,
      scimP50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      scimP99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      allAnsweredS: Math.round(answeredMs / 100) / 10,
      allAgentsS: Math.round(convergedMs / 100) / 10,
      allAgentsRealS: s.rateLimited ? Math.round((convergedMs * COMPRESSION) / 1000) : Math.round(convergedMs / 100) / 10,
      haloCalls: apiCalls,
      callsPerAgent: Math.round(((apiCalls - catalogueCalls) / USERS) * 100) / 100,
      agents: sim.state.agents.size - agentsBefore,
      http429: sim.statusCounts.get(429) ?? 0,
    };
  } finally {
    child?.kill("SIGTERM");
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runProvisioningBench(): Promise<BenchReport> {
  const rows = [];
  for (const s of [
    { name: "HaloPSA, no rate limit", rateLimited: false },
    { name: "HaloPSA, 300 per 5 min (60× compressed)", rateLimited: true },
  ]) {
    rows.push(await runScenario(s));
  }
  const [open, limited] = rows as [Record<string, number>, Record<string, number>];
  const targets = [
    { target: "≤ 2 HaloPSA calls per new agent (warm caches)", value: `${open["callsPerAgent"]} / ${limited["callsPerAgent"]}`, pass: open["callsPerAgent"]! <= 2 && limited["callsPerAgent"]! <= 2 },
    { target: "every user became exactly one agent", value: `${open["agents"]} / ${limited["agents"]} of ${USERS}`, pass: open["agents"] === USERS && limited["agents"] === USERS },
    { target: "client stays under the limit (no 429)", value: String(limited["http429"]), pass: limited["http429"] === 0 },
    {
      target: "SCIM p99 independent of HaloPSA backlog",
      value: `${open["scimP99Ms"]} ms vs ${limited["scimP99Ms"]} ms rate-limited`,
      pass: limited["scimP99Ms"]! <= Math.max(2 * open["scimP99Ms"]!, open["scimP99Ms"]! + 20),
    },
  ];
  return {
    name: "provisioning",
    summary: `${USERS} users join a mapped group by SCIM PATCH, ${CONCURRENCY} at a time; agents counted in the HaloPSA simulator`,
    rows,
    targets,
    extra: { node: process.version, compression: COMPRESSION },
    failed: false,
  };
}

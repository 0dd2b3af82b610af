/**
 * Provisioning: 1,000 users join a mapped group through SCIM (one PATCH per member, 10 at a time),
 * against the real bridge as a child process and the HaloPSA simulator in this process.
 * Measures the SCIM answer latency (it must not depend on HaloPSA), the time until every account
 * is right in the simulator, and HaloPSA calls; once with no rate limit, once with hosted Halo's
 * 300 requests per rolling 5 minutes, and once as a first sync where half the users already have
 * an agent (issue 13: ≤ 60 calls, right within 5 minutes, nothing refused). Each run then adds one
 * more user to the group: a lone change (≤ 2 calls, agent within 2 s).
 *
 * The rate-limited runs are time-compressed 60× (300 per 5 s on the simulator, the bridge's
 * default half share of it likewise) so they finish in about a minute; durations are also
 * reported scaled back to real time. Calls do not depend on the compression.
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
  /** Users whose agent already exists in HaloPSA before the sync (adopted, not created). */
  readonly existing?: number;
  /**
   * Members added per group PATCH (default 1). A first sync adds them in bulk: at 60× compression,
   * one PATCH per member would make the IdP's own sending (seconds of real time on this machine)
   * count as minutes of HaloPSA time.
   */
  readonly membersPerPatch?: number;
}

async function runScenario(s: Scenario): Promise<Record<string, unknown>> {
  const windowMs = (5 * 60_000) / COMPRESSION;
  const sim: HaloPsaSimulator = await startHaloPsaSimulator({ rateLimit: s.rateLimited ? { requests: 300, windowMs } : null });
  const existing = Math.min(USERS, s.existing ?? 0);
  // Typed in by hand before the bridge came: no surname yet, some disabled.
  for (let i = 0; i < existing; i++) sim.seedAgent({ email: `member${i}@example.com`, name: `Member ${i}`, isdisabled: i % 5 === 0 });
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-bench-"));
  const port = await freePort();
  const config = {
    // The inbound SCIM limits are not what this measures: the IdP's load is the input here.
    rateLimit: { perToken: 0, perAddress: 0 },
    provisioning: { workerConcurrency: 4, reconcileIntervalMinutes: 0, backoffBaseSeconds: 0.5, maxBackoffSeconds: 5 },
    // The tenant's 300 per window, of which the bridge spends its default share (half).
    halopsa: { rateLimit: s.rateLimited ? { requests: 300, windowSeconds: windowMs / 1000 } : null, timeoutSeconds: 10 },
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
    const perPatch = s.membersPerPatch ?? 1;
    const latencies = await timed(Math.ceil(USERS / perPatch), (i) =>
      fetch(`${base}/Groups/${group.id}`, {
        method: "PATCH",
        headers,
        body: JSON.stringify({
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "add", path: "members", value: ids.slice(i * perPatch, (i + 1) * perPatch).map((value) => ({ value })) }],
        }),
      }),
    );
    const answeredMs = performance.now() - started;
    // Every account right: one enabled agent per user, carrying the user's name (adopted agents had no surname).
    const right = () => {
      const byEmail = new Map([...sim.state.agents.values()].map((a) => [a.email, a]));
      return ids.every((_, i) => {
        const a = byEmail.get(`member${i}@example.com`);
        return a !== undefined && !a.isdisabled && a.surname === String(i);
      });
    };
    await until(right, 15 * 60_000);
    const convergedMs = performance.now() - started;
    const agentsAfterSync = sim.state.agents.size - agentsBefore;
    const syncCalls = [...sim.requestCounts].filter(([k]) => k.includes(" /api/")).reduce((n, [, v]) => n + v, 0);

    // Then one more user joins the group: a lone change, not a batch.
    const lone = (await (
      await fetch(`${base}/Users`, { method: "POST", headers, body: JSON.stringify({ userName: "lone@example.com", name: { givenName: "Lone", familyName: "User" }, emails: [{ value: "lone@example.com", primary: true }] }) })
    ).json()) as { id: string };
    await new Promise((r) => setTimeout(r, 1500));
    sim.resetCounts();
    const loneStarted = performance.now();
    await fetch(`${base}/Groups/${group.id}`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: lone.id }] }] }),
    });
    await until(() => [...sim.state.agents.values()].some((a) => a.email === "lone@example.com"), 60_000);
    const loneMs = performance.now() - loneStarted;
    await new Promise((r) => setTimeout(r, 500));
    const loneCalls = [...sim.requestCounts].filter(([k]) => k.includes(" /api/")).reduce((n, [, v]) => n + v, 0);

    return {
      scenario: s.name,
      users: USERS,
      existingAgents: existing,
      scimP50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
      scimP99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
      allAnsweredS: Math.round(answeredMs / 100) / 10,
      allAgentsS: Math.round(convergedMs / 100) / 10,
      allAgentsRealS: s.rateLimited ? Math.round((convergedMs * COMPRESSION) / 1000) : Math.round(convergedMs / 100) / 10,
      allRightSimulatedMin: Math.round(((s.rateLimited ? convergedMs * COMPRESSION : convergedMs) / 60_000) * 100) / 100,
      haloCalls: syncCalls,
      callsPerUser: Math.round((syncCalls / USERS) * 1000) / 1000,
      agents: agentsAfterSync,
      http429: sim.statusCounts.get(429) ?? 0,
      loneCalls,
      loneToAgentMs: Math.round(loneMs),
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
    { name: `first sync, ${Math.floor(USERS / 2)} agents existing, 100 members per PATCH, 300 per 5 min (60× compressed)`, rateLimited: true, existing: Math.floor(USERS / 2), membersPerPatch: 100 },
  ]) {
    rows.push(await runScenario(s));
  }
  const [open, limited, first] = rows as [Record<string, number>, Record<string, number>, Record<string, number>];
  const targets = [
    { target: "first sync: ≤ 60 HaloPSA calls in all", value: String(first["haloCalls"]), pass: first["haloCalls"]! <= 60 },
    { target: "first sync: every account right within 5 simulated minutes", value: `${first["allRightSimulatedMin"]} min`, pass: first["allRightSimulatedMin"]! <= 5 },
    { target: "first sync: one agent per user, existing ones adopted", value: `${first["agents"]} created, ${first["existingAgents"]} adopted`, pass: first["agents"]! + first["existingAgents"]! === USERS },
    { target: "first sync: 0 requests refused by HaloPSA", value: String(first["http429"]), pass: first["http429"] === 0 },
    { target: "one user added to a mapped group: ≤ 2 HaloPSA calls", value: `${open["loneCalls"]} / ${limited["loneCalls"]} / ${first["loneCalls"]}`, pass: [open, limited, first].every((r) => r["loneCalls"]! <= 2) },
    { target: "one user added to a mapped group: agent within 2 s", value: `${open["loneToAgentMs"]} ms (unlimited)`, pass: open["loneToAgentMs"]! <= 2000 },
    { target: "≤ 2 HaloPSA calls per user joining (batched passes)", value: `${open["callsPerUser"]} / ${limited["callsPerUser"]}`, pass: open["callsPerUser"]! <= 2 && limited["callsPerUser"]! <= 2 },
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

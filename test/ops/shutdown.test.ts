/**
 * Graceful shutdown of a real bridge process (issue 5): on SIGTERM it accepts no new connection,
 * answers the request in flight, gives back the lease of a job still running, closes the database
 * (SQLite folds the WAL into the file and removes it), and exits 0; a stuck request is cut at the
 * shutdown timeout; a second signal exits at once with a non-zero code.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { SCIM_TOKEN } from "../support/bridge.js";
import { AGENTS, waitFor } from "../support/provisioning.js";
import { CORE_GROUP, CORE_USER } from "../support/scim.js";
import { onDisk as readDb, startBridgeProcess, type BridgeProcess } from "../support/child-bridge.js";
import { bridgeEnv, exitOf, logLines, type Exit } from "./bridge-process.js";

interface Running {
  readonly p: BridgeProcess;
  readonly port: number;
  readonly exited: Promise<Exit>;
}

/** A POST whose body is sent in two parts, so the request is in flight for as long as the test wants. */
function trickledPost(p: BridgeProcess, body: unknown): { finish(): void; response: Promise<{ status: number; body: any }>; flushed: Promise<void> } {
  const bytes = Buffer.from(JSON.stringify(body));
  const half = Math.floor(bytes.length / 2);
  const req = request(`${p.url}/scim/v2/Users`, {
    method: "POST",
    agent: false,
    headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json", "Content-Length": String(bytes.length) },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.once("error", reject);
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("error", reject);
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
  });
  // Keeps an unawaited rejection (the cut request) from failing the run before the test awaits it.
  response.catch(() => {});
  const flushed = new Promise<void>((resolve) => req.write(bytes.subarray(0, half), () => resolve()));
  return { finish: () => req.end(bytes.subarray(half)), response, flushed };
}

/** Whether a new TCP connection to the port is accepted (a refusal is ECONNREFUSED, nothing else). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNREFUSED" ? resolve(false) : reject(e)));
  });
}

const userBody = (email: string) => ({ schemas: [CORE_USER], userName: email, active: true, emails: [{ primary: true, value: email }] });

describe("graceful shutdown", () => {
  let dir: string;
  let dbFile: string;
  let sim: HaloPsaSimulator;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "scim-bridge-shutdown-"));
    dbFile = join(dir, "bridge.db");
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });

  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (shutdownTimeoutSeconds: number): Promise<Running> => {
    const env = { ...bridgeEnv(dir, dbFile, sim, { timeoutSeconds: 30 }), SCIM_BRIDGE_SHUTDOWN_TIMEOUT_SECONDS: String(shutdownTimeoutSeconds) };
    const p = await startBridgeProcess({ cwd: dir, env });
    return { p, port: Number(new URL(p.url).port), exited: exitOf(p.child) };
  };

  /** Sends the first half of a user POST and waits until the bridge has surely read its headers. */
  const inFlight = async (p: BridgeProcess, email: string) => {
    const post = trickledPost(p, userBody(email));
    await post.flushed;
    // Nothing the bridge exposes tells that it has parsed the headers; on loopback it takes well under 1 ms.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return post;
  };

  const leftBehind = () => ["-wal", "-shm", "-journal"].filter((suffix) => existsSync(`${dbFile}${suffix}`));

  it("answers the request in flight, refuses new connections, gives back a running job's lease, closes the database and exits 0", async () => {
    // HaloPSA never answers, so the provisioning job of the user below is still running at shutdown.
    sim.faults.hangNext(1_000_000);
    const { p, port, exited } = await start(2);
    const created = await fetch(`${p.url}/scim/v2/Users`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify(userBody("agent@example.com")),
    });
    const user = (await created.json()) as { id: string };
    const group = await fetch(`${p.url}/scim/v2/Groups`, {
      method: "POST",
      headers: { Authorization: `Bearer ${SCIM_TOKEN}`, "Content-Type": "application/scim+json" },
      body: JSON.stringify({ schemas: [CORE_GROUP], displayName: AGENTS, members: [{ value: user.id }] }),
    });
    expect(group.status).toBe(201);
    const lease = () => readDb(dbFile, (db) => db.prepare("SELECT locked_by, locked_until, attempts FROM jobs WHERE user_id = ?").get(user.id)) as { locked_by: string | null; locked_until: string | null; attempts: number } | undefined;
    await waitFor(() => lease()?.locked_by != null, 10_000, "the job claimed by the worker");

    const post = await inFlight(p, "in.flight@example.com");
    const signalled = Date.now();
    p.child.kill("SIGTERM");
    await waitFor(async () => !(await accepts(port)), 2_000, "new connections refused");
    post.finish();
    const answer = await post.response;
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);

    expect(await exited).toEqual({ code: 0, signal: null });
    // Checked before anything opens the file again: a read-only connection recreates both files.
    expect(leftBehind()).toEqual([]);
    // The job could not finish: the worker waited the 2 s shutdown timeout, then gave the lease back.
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(lease()).toEqual({ locked_by: null, locked_until: null, attempts: 1 });
    expect(readDb(dbFile, (db) => db.prepare("SELECT id FROM users WHERE user_name = ?").pluck().get("in.flight@example.com"))).toBe(answer.body.id);
    expect(logLines(p.output).map((l) => l.message)).toContain("shut down: database closed");
  });

  it("cuts a request still running at the shutdown timeout, then closes the database and exits 0", async () => {
    const { p, exited } = await start(1);
    const post = await inFlight(p, "never.finished@example.com");
    const signalled = Date.now();
    p.child.kill("SIGTERM");
    await expect(post.response).rejects.toThrow();
    expect(await exited).toEqual({ code: 0, signal: null });
    const took = Date.now() - signalled;
    expect(leftBehind()).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(4_000);
    expect(logLines(p.output).find((l) => l.message.startsWith("shutdown timeout"))).toMatchObject({ level: "warn", connections: 1, timeoutSeconds: 1 });
    expect(readDb(dbFile, (db) => db.prepare("SELECT count(*) FROM users").pluck().get())).toBe(0);
  });

  it("exits at once with a non-zero code on a second signal", async () => {
    const { p, port, exited } = await start(60);
    const post = await inFlight(p, "stuck@example.com");
    p.child.kill("SIGTERM");
    await waitFor(async () => !(await accepts(port)), 2_000, "shutdown under way");
    const second = Date.now();
    p.child.kill("SIGINT");
    expect(await exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - second).toBeLessThan(2_000);
    await expect(post.response).rejects.toThrow();
    expect(logLines(p.output).map((l) => l.message)).toContain("second signal: exiting without waiting for running requests and jobs");
  });
});

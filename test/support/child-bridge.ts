/**
 * The bridge as a real child process (`node dist/src/main.js`, built by test/global-setup.ts), for
 * the tests where the process itself is the subject: `kill -9`, stdout on a full disk, what a
 * crash prints. Each process started in a test is killed when that test ends, pass or fail.
 */
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { onTestFinished } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN } from "./bridge.js";
import { exchange, type HttpResult } from "./io.js";
import { waitFor } from "./provisioning.js";

export const MAIN = join(fileURLToPath(new URL("../..", import.meta.url)), "dist", "src", "main.js");

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

export interface BridgeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stdout and stderr so far (when they are pipes). */
  readonly output: string[];
  /** A SCIM request with the SCIM token (SCIM_TOKEN unless the environment named another). */
  scim(method: string, path: string, body?: unknown, headers?: Record<string, string | null>): Promise<HttpResult>;
  /** An admin API request with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<HttpResult>;
}

export interface BridgeProcessOptions {
  /** Working directory: relative paths, and the default ./data, resolve here. */
  readonly cwd: string;
  /** The environment (PATH, PORT and HOST are added; no variable of the test runner leaks in). */
  readonly env: Record<string, string>;
  /** stdout and stderr: pipes read into `output` (default), or a file descriptor for both. */
  readonly stdio?: "pipe" | number;
  readonly readyTimeoutMs?: number;
}

/**
 * Starts `node dist/src/main.js` on a free loopback port and waits until /healthz answers. The port
 * is free when chosen but another process (the bridge's own simulator included) may take it before
 * the bridge listens: a start refused for a port in use is tried again on another port.
 */
export async function startBridgeProcess(o: BridgeProcessOptions): Promise<BridgeProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(o);
    } catch (e: unknown) {
      if (attempt >= 3 || !(e instanceof Error && e.message.includes("is already in use"))) throw e;
    }
  }
}

async function startOnce(o: BridgeProcessOptions): Promise<BridgeProcess> {
  const port = await freePort();
  const stdio: StdioOptions = o.stdio === undefined || o.stdio === "pipe" ? ["ignore", "pipe", "pipe"] : ["ignore", o.stdio, o.stdio];
  const child = spawn(process.execPath, [MAIN], {
    cwd: o.cwd,
    env: { PATH: process.env["PATH"] ?? "", PORT: String(port), HOST: "127.0.0.1", ...o.env },
    stdio,
  });
  onTestFinished(() => kill9(child));
  const output: string[] = [];
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString("utf8")));
  const url = `http://127.0.0.1:${port}`;
  const exitedEarly = () => child.exitCode !== null || child.signalCode !== null;
  const logsListening = child.stdout !== null && ["info", "debug", undefined].includes(o.env["LOG_LEVEL"]);
  await waitFor(
    async () => {
      if (exitedEarly()) throw new Error(`the bridge exited early:\n${output.join("")}`);
      // With its output piped, the bridge's own "listening" line proves the port is this process's
      // (another test's server may answer /healthz on a port taken meanwhile).
      if (logsListening && !output.join("").includes('"message":"scim-bridge listening"')) return false;
      return (await fetch(`${url}/healthz`)).ok;
    },
    o.readyTimeoutMs ?? 15_000,
    "bridge process serving /healthz",
  );
  const scimToken = o.env["SCIM_BRIDGE_SCIM_TOKEN"] ?? SCIM_TOKEN;
  const adminToken = o.env["SCIM_BRIDGE_ADMIN_TOKEN"] ?? ADMIN_TOKEN;
  return {
    child,
    url,
    output,
    scim: (method, path, body, headers = {}) =>
      exchange(`${url}/scim/v2${path}`, method, { Authorization: `Bearer ${scimToken}`, ...headers }, body, "application/scim+json"),
    admin: (method, path, body) => exchange(`${url}/admin/api${path}`, method, { Authorization: `Bearer ${adminToken}` }, body, "application/json"),
  };
}

/** SIGKILL: no shutdown code runs. Resolves once the process is gone. */
export async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  await exited;
}

/** Reads the bridge's SQLite file as another process would, without writing to it. */
export function onDisk<T>(dbFile: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

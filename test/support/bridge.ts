/**
 * Starts a real bridge for a test: a real SQLite file in a temp directory, a real HTTP server on
 * a loopback port, and a `scim()` client that speaks to it over HTTP like an IdP would.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { start, type Running } from "../../src/main.js";

export const SCIM_TOKEN = "test-scim-token-0123456789abcdef";
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export interface ScimResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestBridge {
  readonly running: Running;
  readonly baseUrl: string;
  readonly dir: string;
  readonly dbFile: string;
  readonly logLines: string[];
  /**
   * A request with the SCIM token. A string body is sent as is (raw bytes), anything else as JSON.
   * `headers` override the defaults; a header set to null is not sent (e.g. `{ Authorization: null }`).
   */
  scim(method: string, path: string, body?: unknown, headers?: Record<string, string | null>): Promise<ScimResult>;
  close(): Promise<void>;
}

/**
 * `configFile`, when given, is written as config.json in the bridge's directory and named by
 * SCIM_BRIDGE_CONFIG, as an operator would (apps, rules, provisioning and halopsa keys).
 */
export async function startBridge(env: Record<string, string> = {}, options: { configFile?: unknown } = {}): Promise<TestBridge> {
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-test-"));
  const dbFile = join(dir, "bridge.db");
  let configEnv: Record<string, string> = {};
  if (options.configFile !== undefined) {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify(options.configFile, null, 2));
    configEnv = { SCIM_BRIDGE_CONFIG: file };
  }
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SCIM_BRIDGE_DB: dbFile,
    SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN,
    SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: "info",
    ...configEnv,
    ...env,
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
      cb();
    },
  });
  const running = await start(config, createLogger(config.logLevel, sink));
  const baseUrl = `${running.url}/scim/v2`;
  return {
    running,
    baseUrl,
    dir,
    dbFile,
    logLines,
    async scim(method, path, body, headers = {}) {
      const merged: Record<string, string | null> = {
        Authorization: `Bearer ${SCIM_TOKEN}`,
        ...(body === undefined ? {} : { "Content-Type": "application/scim+json" }),
        ...headers,
      };
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null)),
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async close() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a real bridge for a test: a real SQLite file in a temp directory, a real HTTP server on
 * a loopback port, and a `scim()` client that speaks to it over HTTP like an IdP would.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";
import { SecretScrubber } from "../../src/domain/secret-scrubber.js";
import { start, type Running } from "../../src/main.js";
import { capturingLogger, exchange, type HttpResult } from "./io.js";

export const SCIM_TOKEN = "test-scim-token-0123456789abcdef";
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export type ScimResult = HttpResult;

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
 * SCIM_BRIDGE_CONFIG, as an operator would (apps, rules, provisioning and halopsa keys). `dir`
 * starts the bridge in an existing directory, on the SQLite file a previous bridge left there.
 * `clock` replaces the system clock (a scripted history with known times).
 */
export async function startBridge(env: Record<string, string> = {}, options: { configFile?: unknown; dir?: string; clock?: Clock } = {}): Promise<TestBridge> {
  // A given `dir` is reused (a restart on the same SQLite file) and left in place on close: its owner removes it.
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "scim-bridge-test-"));
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
    // Inbound rate limits off unless a test sets them (test/http/rate-limit.test.ts): suites send
    // hundreds of requests a second over loopback, far faster than any IdP the defaults are sized for.
    SCIM_BRIDGE_RATE_LIMIT_PER_TOKEN: "0",
    SCIM_BRIDGE_RATE_LIMIT_PER_ADDRESS: "0",
    ...configEnv,
    ...env,
  });
  // The bridge's own secret scrubber, shared with the test's logger as main() shares it with its own.
  const scrubber = new SecretScrubber();
  const { log, lines: logLines } = capturingLogger(config.logLevel, scrubber);
  const running = await start(config, log, scrubber, options.clock);
  const baseUrl = `${running.url}/scim/v2`;
  return {
    running,
    baseUrl,
    dir,
    dbFile,
    logLines,
    scim: (method, path, body, headers = {}) =>
      exchange(`${baseUrl}${path}`, method, { Authorization: `Bearer ${SCIM_TOKEN}`, ...headers }, body, "application/scim+json"),
    async close() {
      await running.close();
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

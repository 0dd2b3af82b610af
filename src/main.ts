/**
 * Composition root: config → logger → database → stores → HTTP server. The only module that
 * wires concrete parts together.
 */
import type { Server } from "node:http";
import { TokenVerifier } from "./auth/tokens.js";
import { ensureInitialTokens, staticTokensOf, type FirstStartTokens } from "./bootstrap.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { AuditLog } from "./db/audit.js";
import { openDatabase, type Db } from "./db/database.js";
import { Directory } from "./db/directory.js";
import { TokenStore } from "./db/tokens.js";
import { createApp } from "./http/app.js";
import { createLogger, type Logger } from "./log.js";
import { SCIM_BASE } from "./scim/router.js";
import { isMainModule } from "./is-main.js";

export interface Running {
  readonly server: Server;
  readonly db: Db;
  readonly log: Logger;
  readonly url: string;
  readonly firstStartTokens: FirstStartTokens | undefined;
  close(): Promise<void>;
}

/** Starts the bridge; used by the CLI entry below and by tests (which pass their own config). */
export async function start(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const db = openDatabase(config.database);
  const clock = systemClock;
  const tokens = new TokenStore(db, clock);
  const statics = staticTokensOf(config);
  const firstStartTokens = ensureInitialTokens(tokens, statics);
  const app = createApp({
    deps: { directory: new Directory(db, clock), audit: new AuditLog(db, clock) },
    verifier: new TokenVerifier(tokens, statics),
    log,
    maxBodyBytes: config.maxBodyBytes,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once("error", reject);
  });
  // Okta and Entra give up after 60 s; never hold a connection longer than that.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  log.info("scim-bridge listening", { url, scimBase: `${url}${SCIM_BASE}`, database: config.database });
  return {
    server,
    db,
    log,
    url,
    firstStartTokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

function banner(r: Running): string {
  const lines = [
    "",
    "  scim-bridge is running",
    `  SCIM base URL (Okta "Base URL", Entra "Tenant URL"): ${r.url}${SCIM_BASE}`,
  ];
  if (r.firstStartTokens) {
    lines.push(
      "",
      "  First start: these tokens are shown once and stored only as hashes.",
      `  SCIM token  (paste into the IdP as the bearer token / secret token): ${r.firstStartTokens.scim}`,
      `  Admin token (admin API and web page):                               ${r.firstStartTokens.admin}`,
    );
  } else {
    lines.push("  Create a token with: npm run -s cli -- token create --scope scim --name okta");
  }
  return `${lines.join("\n")}\n\n`;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e: unknown) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const running = await start(config);
  // Printed to stdout, not through the logger: the first-start secrets must never reach a log sink.
  process.stdout.write(banner(running));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second signal forces exit
    stopping = true;
    running.log.info("shutting down", { signal });
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

if (isMainModule(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`scim-bridge failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}

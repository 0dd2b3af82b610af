/**
 * The process under test for `npm run bench`: seeds a directory into BENCH_DB, then serves the
 * real bridge app. Runs as a child so the load generator has its own core; the bare express +
 * SQLite ceiling (ceiling.ts) is another child reading the same file.
 */
import { createServer, type Server } from "node:http";
import { TokenVerifier, staticToken } from "../src/auth/tokens.js";
import { systemClock } from "../src/clock.js";
import { AuditLog } from "../src/db/audit.js";
import { openDatabase } from "../src/db/database.js";
import { Directory } from "../src/db/directory.js";
import { IdentityMap } from "../src/db/identity-map.js";
import { JobQueue } from "../src/db/jobs.js";
import { TokenStore } from "../src/db/tokens.js";
import { createApp, type RequestListener } from "../src/http/app.js";
import { createLogger } from "../src/log.js";
import { BridgeMetrics } from "../src/metrics/bridge-metrics.js";

export interface BenchServerReady {
  readonly port: number;
  readonly smallGroupId: string;
  readonly bigGroupId: string;
  readonly userIds: string[];
  readonly seedMs: number;
}

const USERS = Number(process.env["BENCH_USERS"] ?? 10_000);
const token = process.env["BENCH_TOKEN"] ?? "";

function listen(app: RequestListener): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer(app).listen(0, "127.0.0.1", () => resolve(s));
  });
}

async function main(): Promise<void> {
  const file = process.env["BENCH_DB"];
  if (file === undefined) throw new Error("BENCH_DB names the SQLite file to seed (the ceiling reads it too)");
  const db = openDatabase(file);
  const directory = new Directory(db, systemClock);
  const started = performance.now();
  const { userIds, smallGroupId, bigGroupId } = directory.write(() => {
    const ids: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const userName = `user${i}@example.com`;
      const row = directory.insertUser({
        userName,
        name: { givenName: `Given${i}`, familyName: `Family${i}` },
        displayName: `Given${i} Family${i}`,
        active: true,
        emails: [{ value: userName, type: "work", primary: true }],
      });
      ids.push(row.id);
    }
    const small = directory.insertGroup({ displayName: "Small group" });
    directory.addMembers(small.pk, { ids: ids.slice(0, 10) });
    const big = directory.insertGroup({ displayName: "Big group" });
    directory.addMembers(big.pk, { ids: ids.slice(0, 10_000) });
    return { userIds: ids, smallGroupId: small.id, bigGroupId: big.id };
  });
  const seedMs = performance.now() - started;

  // Logs go to stdout, which the bench discards: the cost of writing them is still paid.
  const log = createLogger("info");
  const app = createApp({
    // Jobs are queued as in production (the SCIM write pays for it); no worker drains them here.
    deps: {
      directory,
      audit: new AuditLog(db, systemClock),
      jobs: new JobQueue(db, systemClock, { maxAttempts: 8, backoffBaseMs: 5000, maxDelayMs: 3_600_000 }),
      access: new IdentityMap(db, systemClock),
      clock: systemClock,
    },
    verifier: new TokenVerifier(new TokenStore(db, systemClock), [staticToken("bench", "scim", token)]),
    // Every request is measured as in production, so the bench includes what the metrics cost.
    metrics: new BridgeMetrics(),
    log,
    maxBodyBytes: 1024 * 1024,
    publicUrl: undefined,
    trustProxy: false,
  });
  const server = await listen(app);
  const port = (server.address() as { port: number }).port;
  const ready: BenchServerReady = { port, smallGroupId, bigGroupId, userIds, seedMs };
  process.send?.(ready);
  process.on("message", (m) => {
    if (m === "memory") process.send?.({ rss: process.memoryUsage().rss });
    if (m === "stop") {
      server.close();
      db.close();
      process.exit(0);
    }
  });
}

void main();

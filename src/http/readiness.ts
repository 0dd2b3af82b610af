/**
 * /readyz: is this process able to do its work? Unauthenticated and cheap, for load balancers and
 * orchestrators: the database takes a write lock, the schema is at the latest migration, and the
 * provisioning worker's loop is alive. /healthz only says the process answers.
 */
import type { Db } from "../db/database.js";
import { migrations } from "../db/migrations.js";

export interface ReadinessChecks {
  readonly database: boolean;
  readonly migrations: boolean;
  readonly worker: boolean;
}

export function checkReadiness(db: Db, workerAlive: () => boolean): ReadinessChecks {
  let database: boolean;
  try {
    // BEGIN IMMEDIATE takes the write lock: a read-only or locked-out database fails here.
    db.exec("BEGIN IMMEDIATE; ROLLBACK");
    database = true;
  } catch {
    database = false;
  }
  const latest = migrations[migrations.length - 1]!.version;
  const applied = database ? (db.pragma("user_version", { simple: true }) as number) : -1;
  return { database, migrations: applied === latest, worker: workerAlive() };
}

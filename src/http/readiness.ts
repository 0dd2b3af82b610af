/**
 * /readyz: is this process able to do its work? Unauthenticated and cheap, for load balancers and
 * orchestrators: a write to the database would succeed (write lock, room for new pages), the
 * worker has not just failed on the database, the schema is at the latest migration, and the
 * provisioning worker's loop is alive. /healthz only says the process answers.
 */
import type { Db } from "../db/database.js";
import { databaseFailureOf, describeFailure } from "../db/database-failure.js";
import { probeDatabase, type DatabaseHealth } from "../db/database-health.js";
import { migrations } from "../db/migrations.js";

export interface ReadinessChecks {
  readonly database: boolean;
  readonly migrations: boolean;
  readonly worker: boolean;
}

export interface Readiness {
  readonly checks: ReadinessChecks;
  /** Why the database check failed, e.g. "database full (SQLITE_FULL)". */
  readonly reason?: string;
}

function probe(db: Db): string | undefined {
  try {
    probeDatabase(db);
    return undefined;
  } catch (e: unknown) {
    const failure = databaseFailureOf(e);
    return failure ? describeFailure(failure) : `database check failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function appliedVersion(db: Db): number {
  try {
    return db.pragma("user_version", { simple: true }) as number;
  } catch {
    return -1;
  }
}

export function checkReadiness(db: Db, workerAlive: () => boolean, health: DatabaseHealth): Readiness {
  // The probe first: what fails now is a better reason than what the worker last saw.
  const reason = probe(db) ?? health.problem?.reason;
  const latest = migrations[migrations.length - 1]!.version;
  const checks = { database: reason === undefined, migrations: appliedVersion(db) === latest, worker: workerAlive() };
  return reason === undefined ? { checks } : { checks, reason };
}

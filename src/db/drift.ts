/**
 * The last drift the reconciler found, per app. Each pass replaces its app's rows, so the report
 * always shows the world as last read, and survives restarts.
 */
import type { Clock } from "../clock.js";
import { BridgeState } from "./bridge-state.js";
import type { Db } from "./database.js";

export type DriftKind =
  /** Enabled in the app, and no rule grants it to anyone in the directory. */
  | "orphan"
  /** Enabled in the app with the email of a user who is granted it, but not in the identity map. */
  | "unlinked"
  /** The map says active; someone disabled it in the app. */
  | "disabled-outside"
  /** The map says disabled; someone enabled it in the app. */
  | "enabled-outside"
  /** Email, name or role changed in the app, not by the bridge. */
  | "changed-outside"
  /** The map holds an account the app no longer has. */
  | "missing"
  /** A user was refused an account another user of the bridge holds (one owner per account). */
  | "conflict"
  /** Two or more enabled accounts in the app share an email (by matching key). */
  | "duplicate";

export interface DriftItem {
  readonly app: string;
  readonly kind: DriftKind;
  readonly externalId: string | null;
  readonly userId: string | null;
  readonly email: string | null;
  readonly detail: Record<string, unknown>;
  readonly detectedAt: string;
}

/** The last drift pass over an app: when it ran, and why it could not read the app if it failed. */
export interface DriftPass {
  readonly at: string;
  readonly error: string | null;
}

/**
 * A pass that finds nothing leaves no drift row, so the time of the last pass is kept apart, in
 * bridge_state (one key per app), to tell "checked, nothing found" from "never checked".
 */
const passKey = (app: string) => `drift.lastPass.${app}`;

export class DriftStore {
  private readonly state: BridgeState;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.state = new BridgeState(db, clock);
  }

  replace(app: string, items: readonly Omit<DriftItem, "detectedAt" | "app">[]): void {
    const now = this.clock.now().toISOString();
    const insert = this.db.prepare(
      "INSERT INTO drift_items (app, kind, external_id, user_id, email, detail, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM drift_items WHERE app = ?").run(app);
      for (const i of items) insert.run(app, i.kind, i.externalId, i.userId, i.email, JSON.stringify(i.detail), now);
      this.state.set(passKey(app), JSON.stringify({ at: now, error: null } satisfies DriftPass));
    }).immediate();
  }

  /** A pass that could not read the app: the drift found before stays, the failure is what the last pass says. */
  recordFailure(app: string, error: string): void {
    this.state.set(passKey(app), JSON.stringify({ at: this.clock.now().toISOString(), error } satisfies DriftPass));
  }

  /** The last pass over the app; undefined when none has run since the bridge began keeping it. */
  lastPass(app: string): DriftPass | undefined {
    const raw = this.state.get(passKey(app));
    return raw === undefined ? undefined : (JSON.parse(raw) as DriftPass);
  }

  list(app?: string): DriftItem[] {
    const rows = (
      app === undefined
        ? this.db.prepare("SELECT * FROM drift_items ORDER BY app, kind, email").all()
        : this.db.prepare("SELECT * FROM drift_items WHERE app = ? ORDER BY kind, email").all(app)
    ) as { app: string; kind: DriftKind; external_id: string | null; user_id: string | null; email: string | null; detail: string; detected_at: string }[];
    return rows.map((r) => ({
      app: r.app,
      kind: r.kind,
      externalId: r.external_id,
      userId: r.user_id,
      email: r.email,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      detectedAt: r.detected_at,
    }));
  }

  counts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const r of this.db.prepare("SELECT app, kind, count(*) AS n FROM drift_items GROUP BY app, kind").all() as { app: string; kind: string; n: number }[]) {
      (out[r.app] ??= {})[r.kind] = r.n;
    }
    return out;
  }
}

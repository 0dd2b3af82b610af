/**
 * The last drift the reconciler found, per app. Each pass replaces its app's rows, so the report
 * always shows the world as last read, and survives restarts.
 */
import type { Clock } from "../clock.js";
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

export class DriftStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  replace(app: string, items: readonly Omit<DriftItem, "detectedAt" | "app">[]): void {
    const now = this.clock.now().toISOString();
    const insert = this.db.prepare(
      "INSERT INTO drift_items (app, kind, external_id, user_id, email, detail, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM drift_items WHERE app = ?").run(app);
      for (const i of items) insert.run(app, i.kind, i.externalId, i.userId, i.email, JSON.stringify(i.detail), now);
    }).immediate();
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

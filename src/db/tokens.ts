/**
 * Bearer tokens table. Only the SHA-256 hash of a token is stored: the secret is shown once
 * at creation and cannot be recovered from the database.
 */
import type { Db } from "./database.js";
import type { Clock } from "../clock.js";

export type Scope = "scim" | "admin" | "reviewer" | "metrics";
export const SCOPES: readonly Scope[] = ["scim", "admin", "reviewer", "metrics"];

export interface TokenRow {
  readonly id: number;
  readonly name: string;
  readonly scope: Scope;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

interface RawToken {
  id: number;
  name: string;
  scope: Scope;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const toRow = (r: RawToken): TokenRow => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class TokenStore {
  private readonly byHash;
  private readonly touch;
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.byHash = db.prepare("SELECT id, name, scope, created_at, last_used_at, revoked_at FROM tokens WHERE hash = ?");
    this.touch = db.prepare("UPDATE tokens SET last_used_at = ? WHERE id = ?");
  }

  insert(name: string, scope: Scope, hash: string): TokenRow {
    const r = this.db
      .prepare("INSERT INTO tokens (name, scope, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id, name, scope, created_at, last_used_at, revoked_at")
      .get(name, scope, hash, this.clock.now().toISOString()) as RawToken;
    return toRow(r);
  }

  findActiveByHash(hash: string): TokenRow | undefined {
    const r = this.byHash.get(hash) as RawToken | undefined;
    return r && r.revoked_at === null ? toRow(r) : undefined;
  }

  markUsed(id: number): void {
    this.touch.run(this.clock.now().toISOString(), id);
  }

  list(): TokenRow[] {
    return (this.db.prepare("SELECT id, name, scope, created_at, last_used_at, revoked_at FROM tokens ORDER BY id").all() as RawToken[]).map(toRow);
  }

  /** Revokes by id or by name; returns the names of the tokens revoked. */
  revoke(idOrName: string): string[] {
    const now = this.clock.now().toISOString();
    const byId = /^\d+$/.test(idOrName);
    return this.db
      .prepare(`UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND ${byId ? "id = ?" : "name = ?"} RETURNING name`)
      .pluck()
      .all(now, byId ? Number(idOrName) : idOrName) as string[];
  }

  /** Every token ever issued, revoked ones included. */
  countAll(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM tokens").get() as { n: number }).n;
  }
}

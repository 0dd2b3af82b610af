/**
 * Bearer tokens table. Only the SHA-256 hash of a token is stored: the secret is shown once
 * at creation and cannot be recovered from the database.
 *
 * A token is revoked (revoked_at, at once) or rotated out: rotation sets expires_at on the old
 * token so it keeps working for an overlap while the IdP is given its successor.
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
  /** Set when the token was rotated out: it stops working at this time. */
  readonly expiresAt: string | null;
}

/** active: works, no end set; expiring: works until expiresAt (rotated out); expired and revoked: refused. */
export type TokenState = "active" | "expiring" | "expired" | "revoked";
export const TOKEN_STATES: readonly TokenState[] = ["active", "expiring", "expired", "revoked"];

export function tokenState(t: TokenRow, now: Date): TokenState {
  if (t.revokedAt !== null) return "revoked";
  if (t.expiresAt === null) return "active";
  return Date.parse(t.expiresAt) > now.getTime() ? "expiring" : "expired";
}

interface RawToken {
  id: number;
  name: string;
  scope: Scope;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  expires_at: string | null;
}

const COLUMNS = "id, name, scope, created_at, last_used_at, revoked_at, expires_at";

const toRow = (r: RawToken): TokenRow => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  expiresAt: r.expires_at,
});

export class TokenStore {
  private readonly byHash;
  private readonly byId;
  private readonly touch;
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.byHash = db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE hash = ?`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM tokens WHERE id = ?`);
    this.touch = db.prepare("UPDATE tokens SET last_used_at = ? WHERE id = ?");
  }

  insert(name: string, scope: Scope, hash: string): TokenRow {
    const r = this.db
      .prepare(`INSERT INTO tokens (name, scope, hash, created_at) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`)
      .get(name, scope, hash, this.clock.now().toISOString()) as RawToken;
    return toRow(r);
  }

  /** The token with this hash whatever its state, so a refusal can say why (revoked, expired). */
  findByHash(hash: string): TokenRow | undefined {
    const r = this.byHash.get(hash) as RawToken | undefined;
    return r && toRow(r);
  }

  get(id: number): TokenRow | undefined {
    const r = this.byId.get(id) as RawToken | undefined;
    return r && toRow(r);
  }

  /** Tokens of this name that still work (active or expiring), oldest first. */
  usableByName(name: string): TokenRow[] {
    return (
      this.db
        .prepare(`SELECT ${COLUMNS} FROM tokens WHERE name = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY id`)
        .all(name, this.clock.now().toISOString()) as RawToken[]
    ).map(toRow);
  }

  markUsed(id: number): void {
    this.touch.run(this.clock.now().toISOString(), id);
  }

  list(): TokenRow[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM tokens ORDER BY id`).all() as RawToken[]).map(toRow);
  }

  /** Sets when a token stops working; returns it as it now stands. */
  expire(id: number, at: Date): TokenRow {
    return toRow(this.db.prepare(`UPDATE tokens SET expires_at = ? WHERE id = ? RETURNING ${COLUMNS}`).get(at.toISOString(), id) as RawToken);
  }

  /** Revokes by id or by name; returns the tokens revoked (none when every match already was). */
  revoke(idOrName: string | number): TokenRow[] {
    const now = this.clock.now().toISOString();
    const byId = typeof idOrName === "number" || /^\d+$/.test(idOrName);
    return (
      this.db
        .prepare(`UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND ${byId ? "id = ?" : "name = ?"} RETURNING ${COLUMNS}`)
        .all(now, byId ? Number(idOrName) : idOrName) as RawToken[]
    ).map(toRow);
  }

  /** Every token ever issued, revoked ones included. */
  countAll(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM tokens").get() as { n: number }).n;
  }
}

/**
 * Bearer tokens table. Only the SHA-256 hash of a token is stored: the secret is shown once
 * at creation and cannot be recovered from the database.
 *
 * A token is revoked (revoked_at, at once) or rotated out: rotation sets expires_at on the old
 * token so it keeps working for an overlap while the IdP is given its successor (replaced_by).
 * At most one active token carries a name (index tokens_one_active_name, migration 9): a rotated-out
 * token shares its name with its successor until it expires.
 */
import type { Db } from "./database.js";
import type { Clock } from "../clock.js";
import { BridgeError } from "../errors.js";

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
  /** The successor a rotation issued (set with expiresAt, or with revokedAt for an overlap of 0). */
  readonly replacedBy: number | null;
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
  replaced_by: number | null;
}

const COLUMNS = "id, name, scope, created_at, last_used_at, revoked_at, expires_at, replaced_by";

const toRow = (r: RawToken): TokenRow => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  expiresAt: r.expires_at,
  replacedBy: r.replaced_by,
});

/** SQL: the token still works at ? (now). */
const USABLE = "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)";

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

  /** A new active token; a name another active token carries is refused (409 uniqueness). */
  insert(name: string, scope: Scope, hash: string): TokenRow {
    try {
      const r = this.db
        .prepare(`INSERT INTO tokens (name, scope, hash, created_at) VALUES (?, ?, ?, ?) RETURNING ${COLUMNS}`)
        .get(name, scope, hash, this.clock.now().toISOString()) as RawToken;
      return toRow(r);
    } catch (e: unknown) {
      if (e instanceof Error && "code" in e && e.code === "SQLITE_CONSTRAINT_UNIQUE" && e.message.includes("tokens.name")) {
        throw new BridgeError("uniqueness", `an active token is already named "${name}"`, { cause: e });
      }
      throw e;
    }
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
        .prepare(`SELECT ${COLUMNS} FROM tokens WHERE name = ? AND ${USABLE} ORDER BY id`)
        .all(name, this.clock.now().toISOString()) as RawToken[]
    ).map(toRow);
  }

  /** The SHA-256 of a token that still works, to check what a session was opened with; undefined otherwise. */
  usableHash(id: number): string | undefined {
    return this.db.prepare(`SELECT hash FROM tokens WHERE id = ? AND ${USABLE}`).pluck().get(id, this.clock.now().toISOString()) as string | undefined;
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

  /** Records the successor a rotation issued; returns the token rotated out as it now stands. */
  markReplaced(id: number, successor: number): TokenRow {
    return toRow(this.db.prepare(`UPDATE tokens SET replaced_by = ? WHERE id = ? RETURNING ${COLUMNS}`).get(successor, id) as RawToken);
  }

  /** Revokes one token; undefined when unknown or revoked already. */
  revoke(id: number): TokenRow | undefined {
    const r = this.db.prepare(`UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND id = ? RETURNING ${COLUMNS}`).get(this.clock.now().toISOString(), id) as
      | RawToken
      | undefined;
    return r && toRow(r);
  }

  /** Every token ever issued, revoked ones included. */
  countAll(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM tokens").get() as { n: number }).n;
  }
}

/**
 * Creating, rotating and revoking tokens: one path for the CLI (actor "cli") and the admin API
 * (actor = the caller's token name). Each change is one transaction with its audit events, and a
 * token that stops working at once ends the review-page sessions signed in with it.
 */
import { z } from "zod";
import type { Clock } from "../clock.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { SessionStore } from "../db/sessions.js";
import { TokenStore, tokenState, type Scope, type TokenRow } from "../db/tokens.js";
import { BridgeError } from "../errors.js";
import { issueToken } from "./tokens.js";

/** Names of tokens from the environment (bootstrap.ts) start with this; no stored token may. */
export const ENV_TOKEN_PREFIX = "env:";

/** Why a token from the environment cannot be rotated or revoked here, and what to do instead. */
export function envTokenRefusal(name: string): string {
  return `"${name}" comes from the environment and is not stored: set a new value for ${name.slice(ENV_TOKEN_PREFIX.length)} (or remove it) and restart the bridge`;
}

/** Long enough to update an IdP on a working day, with a night's margin. */
export const DEFAULT_OVERLAP_MS = 24 * 3_600_000;
/** An old token left working for longer than a month is a forgotten one. */
export const MAX_OVERLAP_MS = 30 * 86_400_000;

export const tokenName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .refine((n) => !n.startsWith(ENV_TOKEN_PREFIX), `must not start with "${ENV_TOKEN_PREFIX}", which names tokens from the environment`);

/** Who asks, as recorded in the audit log. */
export interface Caller {
  readonly actor: string;
  readonly requestId: string | null;
}

export interface Issued {
  /** The secret, shown once. */
  readonly token: string;
  readonly row: TokenRow;
}

export interface Rotated extends Issued {
  /** The token rotated out, with its expiry (or revocation when the overlap is 0). */
  readonly previous: TokenRow;
  readonly sessionsEnded: number;
}

export interface Revoked {
  readonly revoked: readonly TokenRow[];
  readonly sessionsEnded: number;
}

export class TokenLifecycle {
  private readonly store: TokenStore;
  private readonly sessions: SessionStore;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {
    this.store = new TokenStore(db, clock);
    this.sessions = new SessionStore(db, clock);
  }

  list(): TokenRow[] {
    return this.store.list();
  }

  create(name: string, scope: Scope, by: Caller): Issued {
    return this.db.transaction(() => {
      const issued = issueToken(this.store, name, scope);
      this.record(by, "token.create", issued.row.id, { name, scope });
      return issued;
    })();
  }

  /**
   * The one token `idOrName` names for a rotation: an id, or a name that exactly one active token
   * carries (a token already rotated out keeps its name until it expires, so it is skipped).
   */
  resolve(idOrName: string): TokenRow {
    if (idOrName.startsWith(ENV_TOKEN_PREFIX)) throw new BridgeError("preconditionFailed", envTokenRefusal(idOrName));
    if (/^\d+$/.test(idOrName)) {
      const row = this.store.get(Number(idOrName));
      if (!row) throw new BridgeError("notFound", `token ${idOrName} not found`);
      return row;
    }
    const active = this.store.usableByName(idOrName).filter((t) => t.expiresAt === null);
    if (active.length === 0) throw new BridgeError("notFound", `no active token is named "${idOrName}"`);
    if (active.length > 1) throw new BridgeError("preconditionFailed", `${active.length} active tokens are named "${idOrName}" (ids ${active.map((t) => t.id).join(", ")}); name one by id`);
    return active[0]!;
  }

  /**
   * Issues a successor with the same name and scope; the old token works for `overlapMs` more
   * (0: revoked at once). Only an active token rotates: one already rotated out has a successor.
   */
  rotate(id: number, overlapMs: number, by: Caller): Rotated {
    return this.db.transaction(() => {
      const old = this.store.get(id);
      if (!old) throw new BridgeError("notFound", `token ${id} not found`);
      const state = tokenState(old, this.clock.now());
      if (state !== "active") {
        const why = state === "expiring" ? `was rotated already and expires at ${old.expiresAt}; rotate its successor` : `is ${state}`;
        throw new BridgeError("preconditionFailed", `token ${id} ${why}`);
      }
      const issued = issueToken(this.store, old.name, old.scope);
      let previous: TokenRow;
      let sessionsEnded = 0;
      if (overlapMs === 0) {
        previous = this.store.revoke(id)[0]!;
        sessionsEnded = this.sessions.endForTokens([old.name]);
      } else {
        // Sessions are keyed by token name, which the successor shares, so they run to their own end.
        previous = this.store.expire(id, new Date(this.clock.now().getTime() + overlapMs));
      }
      this.record(by, "token.create", issued.row.id, { name: old.name, scope: old.scope, rotatedFrom: id });
      this.record(by, "token.rotate", id, { successor: issued.row.id, expiresAt: previous.expiresAt, revokedAt: previous.revokedAt, sessionsEnded });
      return { ...issued, previous, sessionsEnded };
    })();
  }

  /** Revokes a token by id, or every token of a name; the sessions signed in with them end. */
  revoke(idOrName: string | number, by: Caller): Revoked {
    return this.db.transaction(() => {
      const revoked = this.store.revoke(idOrName);
      const sessionsEnded = this.sessions.endForTokens([...new Set(revoked.map((t) => t.name))]);
      for (const t of revoked) this.record(by, "token.revoke", t.id, { name: t.name, scope: t.scope, sessionsEnded });
      return { revoked, sessionsEnded };
    })();
  }

  get(id: number): TokenRow | undefined {
    return this.store.get(id);
  }

  private record(by: Caller, action: string, id: number, after: Record<string, unknown>): void {
    this.audit.append({ actor: by.actor, requestId: by.requestId, action, resourceType: "Token", resourceId: String(id), after });
  }
}

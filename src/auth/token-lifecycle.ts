/**
 * Creating, rotating and revoking tokens: one path for the CLI (actor "cli") and the admin API
 * (actor = the caller's token, actors.ts). Each change is one transaction with its audit events, and a
 * token that stops working at once ends the review-page sessions signed in with it.
 *
 * A name picks out one token: at most one active token carries it (the store enforces this), and a
 * rotated-out token shares it with its successor until it expires. A name that still matches more
 * than one token is refused with their ids rather than guessed at: `revoke okta` right after
 * `rotate okta` must not take the successor down with the old one.
 */
import { z } from "zod";
import type { Clock } from "../clock.js";
import type { AuditLog } from "../db/audit.js";
import type { Db } from "../db/database.js";
import { SessionStore } from "../db/sessions.js";
import { TokenStore, tokenState, type Scope, type TokenRow } from "../db/tokens.js";
import { BridgeError } from "../errors.js";
import { ENV_TOKEN_PREFIX, isReservedTokenName, RESERVED_TOKEN_NAMES } from "./actors.js";
import { issueToken } from "./tokens.js";

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
  .refine((n) => !n.startsWith(ENV_TOKEN_PREFIX), `must not start with "${ENV_TOKEN_PREFIX}", which names tokens from the environment`)
  .refine((n) => !/^\d+$/.test(n), "must not be a number, which names a token by id")
  .refine((n) => !isReservedTokenName(n), `must not be one of the names the bridge records for itself (${RESERVED_TOKEN_NAMES.join(", ")})`);

/** What a name or id is resolved for: only an active token rotates; any token that still works can be revoked. */
export type Purpose = "rotate" | "revoke";

function described(t: TokenRow, now: Date): string {
  const state = tokenState(t, now);
  if (state === "active") return `${t.id} (active)`;
  const successor = t.replacedBy === null ? "" : `, replaced by ${t.replacedBy}`;
  return state === "expiring" ? `${t.id} (rotated out${successor}, works until ${t.expiresAt})` : `${t.id} (${state}${successor})`;
}

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
  readonly token: TokenRow;
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
      const holder = this.store.usableByName(name).find((t) => t.expiresAt === null);
      if (holder) throw new BridgeError("uniqueness", `token ${holder.id} is already named "${name}"; rotate it for a new secret, revoke it first, or choose another name`);
      const issued = issueToken(this.store, name, scope);
      this.record(by, "token.create", issued.row.id, { name, scope });
      return issued;
    })();
  }

  /**
   * The one token `idOrName` names: an id, or a name that exactly one token carries among those the
   * purpose can act on (to rotate: the active one; to revoke: any that still works, so a rotated-out
   * token and its successor are both candidates and the caller must say which by id).
   */
  resolve(idOrName: string, purpose: Purpose): TokenRow {
    if (idOrName.startsWith(ENV_TOKEN_PREFIX)) throw new BridgeError("preconditionFailed", envTokenRefusal(idOrName));
    if (/^\d+$/.test(idOrName)) {
      const row = this.store.get(Number(idOrName));
      if (!row) throw new BridgeError("notFound", `token ${idOrName} not found`);
      return row;
    }
    const usable = this.store.usableByName(idOrName);
    const candidates = purpose === "rotate" ? usable.filter((t) => t.expiresAt === null) : usable;
    if (candidates.length === 0) throw new BridgeError("notFound", `no ${purpose === "rotate" ? "active" : "working"} token is named "${idOrName}"`);
    if (candidates.length > 1) {
      const now = this.clock.now();
      throw new BridgeError(
        "uniqueness",
        `${candidates.length} tokens are named "${idOrName}": ${candidates.map((t) => described(t, now)).join(", ")}; ${purpose} one by id`,
      );
    }
    return candidates[0]!;
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
      // The old token leaves the name's one active place first (tokens_one_active_name), then the successor takes it.
      let sessionsEnded = 0;
      if (overlapMs === 0) {
        this.store.revoke(id);
        sessionsEnded = this.sessions.endForTokens([id]);
      } else {
        // Its sessions run on while it works and end with it (every request checks the credential).
        this.store.expire(id, new Date(this.clock.now().getTime() + overlapMs));
      }
      const issued = issueToken(this.store, old.name, old.scope);
      const previous = this.store.markReplaced(id, issued.row.id);
      this.record(by, "token.create", issued.row.id, { name: old.name, scope: old.scope, rotatedFrom: id });
      this.record(by, "token.rotate", id, { successor: issued.row.id, expiresAt: previous.expiresAt, revokedAt: previous.revokedAt, sessionsEnded });
      return { ...issued, previous, sessionsEnded };
    })();
  }

  /** Revokes one token (resolve() a name first); the sessions signed in with it end. */
  revoke(id: number, by: Caller): Revoked {
    return this.db.transaction(() => {
      const existing = this.store.get(id);
      if (!existing) throw new BridgeError("notFound", `token ${id} not found`);
      const token = this.store.revoke(id);
      if (!token) throw new BridgeError("preconditionFailed", `token ${id} was revoked at ${existing.revokedAt}`);
      const sessionsEnded = this.sessions.endForTokens([id]);
      this.record(by, "token.revoke", id, { name: token.name, scope: token.scope, sessionsEnded });
      return { token, sessionsEnded };
    })();
  }

  get(id: number): TokenRow | undefined {
    return this.store.get(id);
  }

  private record(by: Caller, action: string, id: number, after: Record<string, unknown>): void {
    this.audit.append({ actor: by.actor, requestId: by.requestId, action, resourceType: "Token", resourceId: String(id), after });
  }
}

/**
 * Review-page sessions (table `sessions`). A session is created when a person signs in at /admin
 * with an admin or reviewer token: the browser gets a random 256-bit id in a cookie, the table
 * keeps its SHA-256 (a high-entropy secret needs no slow hash, as for tokens), the token's name and
 * scope, a CSRF synchronizer token and an absolute expiry. Expired rows are ignored on read and
 * deleted whenever someone signs in, so the table stays as small as the number of people.
 *
 * A session is bound to the credential that opened it (migration 9): the stored token's id, or none
 * for a token from the environment, and an HMAC-SHA256 of the token's SHA-256 keyed by the session
 * id. Every request checks the binding against the token as it stands now, so a session ends when
 * its token is revoked or expires, and when the environment variable it came from changes value.
 * The key is the cookie's id, which the table does not hold: the column alone tells nothing about
 * the token, not even whether a guess at a weak environment token is right.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export type SessionScope = "admin" | "reviewer";

/** The credential a session is opened with: a stored token's id (null for one from the environment) and its SHA-256. */
export interface SessionCredential {
  readonly tokenId: number | null;
  readonly tokenHash: string;
}

export interface Session {
  readonly tokenName: string;
  /** The stored token signed in with; null for a token from the environment. */
  readonly tokenId: number | null;
  readonly scope: SessionScope;
  /** Every form of this session carries it; a POST without it is refused. */
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** A working day plus margin: a reviewer signs in once in the morning. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const hashId = (id: string): string => createHash("sha256").update(id, "utf8").digest("hex");
const bindingOf = (id: string, tokenHash: string): string => createHmac("sha256", id).update(tokenHash, "utf8").digest("hex");

interface RawSession {
  token_name: string;
  token_id: number | null;
  credential: string;
  scope: SessionScope;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export class SessionStore {
  private readonly byHash;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly ttlMs: number = SESSION_TTL_MS,
  ) {
    this.byHash = db.prepare("SELECT token_name, token_id, credential, scope, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?");
  }

  /** Starts a session; returns the id for the cookie (shown nowhere else, stored only hashed). */
  create(tokenName: string, scope: SessionScope, credential: SessionCredential): { id: string; session: Session } {
    const id = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const session: Session = {
      tokenName,
      tokenId: credential.tokenId,
      scope,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    this.db.transaction(() => {
      this.purgeExpired();
      this.db
        .prepare("INSERT INTO sessions (id_hash, token_name, token_id, credential, scope, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(hashId(id), tokenName, credential.tokenId, bindingOf(id, credential.tokenHash), scope, session.csrfToken, session.createdAt, session.expiresAt);
    }).immediate();
    return { id, session };
  }

  /**
   * The live session with this cookie id, while the credential that opened it still works:
   * `currentHash` gives the SHA-256 of that token as it stands now (undefined once it is revoked,
   * expired or gone from the environment). A session whose credential no longer matches is ended.
   */
  find(id: string, currentHash: (s: Session) => string | undefined): Session | undefined {
    const r = this.byHash.get(hashId(id), this.clock.now().toISOString()) as RawSession | undefined;
    if (!r) return undefined;
    const session: Session = { tokenName: r.token_name, tokenId: r.token_id, scope: r.scope, csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at };
    const hash = currentHash(session);
    const expected = Buffer.from(r.credential, "hex");
    if (hash === undefined || expected.length !== 32 || !timingSafeEqual(expected, Buffer.from(bindingOf(id, hash), "hex"))) {
      this.delete(id);
      return undefined;
    }
    return session;
  }

  /** Signs out. */
  delete(id: string): void {
    this.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(hashId(id));
  }

  /**
   * Ends every web session signed in with these stored tokens at once, so a revocation can say how
   * many it ended (find() would refuse them on their next request anyway). A successor sharing the
   * name keeps its own sessions.
   */
  endForTokens(tokenIds: readonly number[]): number {
    if (tokenIds.length === 0) return 0;
    return this.db.prepare("DELETE FROM sessions WHERE token_id IN (SELECT value FROM json_each(?))").run(JSON.stringify(tokenIds)).changes;
  }

  purgeExpired(): number {
    return this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(this.clock.now().toISOString()).changes;
  }
}

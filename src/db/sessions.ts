/**
 * Review-page sessions (table `sessions`). A session is created when a person signs in at /admin
 * with an admin or reviewer token: the browser gets a random 256-bit id in a cookie, the table
 * keeps its SHA-256 (a high-entropy secret needs no slow hash, as for tokens), the token's name and
 * scope, a CSRF synchronizer token and an absolute expiry. Expired rows are ignored on read and
 * deleted whenever someone signs in, so the table stays as small as the number of people.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Db } from "./database.js";

export type SessionScope = "admin" | "reviewer";

export interface Session {
  readonly tokenName: string;
  readonly scope: SessionScope;
  /** Every form of this session carries it; a POST without it is refused. */
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** A working day plus margin: a reviewer signs in once in the morning. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const hashId = (id: string): string => createHash("sha256").update(id, "utf8").digest("hex");

interface RawSession {
  token_name: string;
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
    this.byHash = db.prepare("SELECT token_name, scope, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?");
  }

  /** Starts a session; returns the id for the cookie (shown nowhere else, stored only hashed). */
  create(tokenName: string, scope: SessionScope): { id: string; session: Session } {
    const id = randomBytes(32).toString("base64url");
    const now = this.clock.now();
    const session: Session = {
      tokenName,
      scope,
      csrfToken: randomBytes(32).toString("base64url"),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    this.db.transaction(() => {
      this.purgeExpired();
      this.db
        .prepare("INSERT INTO sessions (id_hash, token_name, scope, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run(hashId(id), tokenName, scope, session.csrfToken, session.createdAt, session.expiresAt);
    }).immediate();
    return { id, session };
  }

  /** The live session with this cookie id; undefined when unknown, signed out or expired. */
  find(id: string): Session | undefined {
    const r = this.byHash.get(hashId(id), this.clock.now().toISOString()) as RawSession | undefined;
    return r && { tokenName: r.token_name, scope: r.scope, csrfToken: r.csrf_token, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  /** Signs out. */
  delete(id: string): void {
    this.db.prepare("DELETE FROM sessions WHERE id_hash = ?").run(hashId(id));
  }

  /**
   * Ends every web session signed in with a token of these names: revoking a token must not leave
   * its sessions open for up to 12 hours. Names are not unique, so a namesake's sessions end too;
   * that errs on the safe side (a sign-in again), never the other.
   */
  endForTokens(names: readonly string[]): number {
    if (names.length === 0) return 0;
    return this.db.prepare("DELETE FROM sessions WHERE token_name IN (SELECT value FROM json_each(?))").run(JSON.stringify(names)).changes;
  }

  purgeExpired(): number {
    return this.db.prepare("DELETE FROM sessions WHERE expires_at <= ?").run(this.clock.now().toISOString()).changes;
  }
}

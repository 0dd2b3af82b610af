/**
 * Issuing and verifying bearer tokens. A token is 32 random bytes (256 bits) in base64url with a
 * recognisable prefix so secret scanners can spot a leaked one. Because tokens are high-entropy,
 * a single SHA-256 is the right hash: a slow password hash would add latency to every request and
 * no security.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { SessionCredential } from "../db/sessions.js";
import type { Scope, TokenRow, TokenStore } from "../db/tokens.js";

export const TOKEN_PREFIX = "scimbridge_";

export interface Principal {
  readonly name: string;
  readonly scope: Scope;
}

/** A token's SHA-256, as bytes. */
function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** A token's SHA-256 in hex: what the database and sessions keep. */
export function hashToken(token: string): string {
  return tokenDigest(token).toString("hex");
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function issueToken(store: TokenStore, name: string, scope: Scope): { token: string; row: TokenRow } {
  const token = generateToken();
  return { token, row: store.insert(name, scope, hashToken(token)) };
}

/** A token accepted from the environment (SCIM_BRIDGE_SCIM_TOKEN, SCIM_BRIDGE_ADMIN_TOKEN); only its hash is kept. */
export interface StaticToken {
  readonly name: string;
  readonly scope: Scope;
  readonly hash: Buffer;
  readonly hashHex: string;
}

export function staticToken(name: string, scope: Scope, secret: string): StaticToken {
  const hash = tokenDigest(secret);
  return { name, scope, hash, hashHex: hash.toString("hex") };
}

/** last_used_at is written at most this often per token, so reads don't each cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

/** A presented token checked: who it is, or why it is refused (and whose it was, when the bridge knows it). */
export type Verification =
  | { readonly ok: true; readonly principal: Principal; readonly credential: SessionCredential }
  | { readonly ok: false; readonly reason: "unknown" }
  | { readonly ok: false; readonly reason: "revoked" | "expired"; readonly tokenName: string };

export class TokenVerifier {
  private readonly lastTouched = new Map<number, number>();

  constructor(
    private readonly store: TokenStore,
    private readonly statics: readonly StaticToken[],
    private readonly nowMs: () => number = Date.now,
    /**
     * Hears of every presented token the bridge knows (valid, revoked or expired): the secret
     * scrubber registers it. An unknown one is not: anyone could present thousands of them.
     */
    private readonly known: (token: string) => void = () => undefined,
  ) {}

  verify(presented: string): Principal | undefined {
    const v = this.check(presented);
    return v.ok ? v.principal : undefined;
  }

  check(presented: string): Verification {
    // Every request is checked here: the digest is taken once, as bytes, and turned into hex only for a stored token.
    const hash = tokenDigest(presented);
    // Compare every static token in constant time, without stopping at the first match.
    let match: StaticToken | undefined;
    for (const s of this.statics) {
      if (timingSafeEqual(s.hash, hash)) match = s;
    }
    if (match) return { ok: true, principal: { name: match.name, scope: match.scope }, credential: { tokenId: null, tokenHash: match.hashHex } };
    const hashHex = hash.toString("hex");
    // The lookup is by hash, so the secret itself is never compared byte by byte.
    const row = this.store.findByHash(hashHex);
    if (!row) return { ok: false, reason: "unknown" };
    this.known(presented);
    if (row.revokedAt !== null) return { ok: false, reason: "revoked", tokenName: row.name };
    const now = this.nowMs();
    if (row.expiresAt !== null && Date.parse(row.expiresAt) <= now) return { ok: false, reason: "expired", tokenName: row.name };
    // Keyed by token id: a rotated-out token and its successor share a name but are touched apart.
    if (now - (this.lastTouched.get(row.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.lastTouched.set(row.id, now);
      this.store.markUsed(row.id);
    }
    return { ok: true, principal: { name: row.name, scope: row.scope }, credential: { tokenId: row.id, tokenHash: hashHex } };
  }

  /**
   * The SHA-256 of the credential a review-page session was opened with, as it stands now: the
   * stored token while it works, or the environment token of that name this process was started
   * with (a new value, or none, gives another hash or undefined, and the session ends).
   */
  currentHash(session: { readonly tokenId: number | null; readonly tokenName: string }): string | undefined {
    if (session.tokenId !== null) return this.store.usableHash(session.tokenId);
    return this.statics.find((s) => s.name === session.tokenName)?.hashHex;
  }
}

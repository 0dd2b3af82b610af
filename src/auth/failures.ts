/**
 * Failed authentications counted by reason, in memory: /metrics reads a snapshot at scrape time
 * (a Prometheus counter resets with the process, so nothing needs to persist).
 *
 *   missing      no Authorization header
 *   malformed    a header that is not `Bearer <token>`
 *   unknown      a token the bridge never issued (or a typo)
 *   revoked      a revoked token
 *   expired      a token rotated out whose overlap has ended
 *   wrong_scope  a valid token of a scope the route does not take (e.g. SCIM token on the admin API)
 */
export const AUTH_FAILURE_REASONS = ["missing", "malformed", "unknown", "revoked", "expired", "wrong_scope"] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** What is known about a refused request: the reason, and the token's name when the token was recognised (a name is no secret). */
export interface AuthFailure {
  readonly reason: AuthFailureReason;
  readonly tokenName?: string;
}

export class AuthFailures {
  private readonly counts = new Map<AuthFailureReason, number>(AUTH_FAILURE_REASONS.map((r) => [r, 0]));

  record(reason: AuthFailureReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** Failures so far per reason, every reason present (zero included) so a scrape shows the full set. */
  snapshot(): Record<AuthFailureReason, number> {
    return Object.fromEntries(AUTH_FAILURE_REASONS.map((r) => [r, this.counts.get(r) ?? 0])) as Record<AuthFailureReason, number>;
  }
}

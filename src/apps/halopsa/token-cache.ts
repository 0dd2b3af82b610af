/**
 * The OAuth2 access token, fetched once and shared until shortly before it expires. Concurrent
 * callers wait on the same fetch rather than each asking the auth server.
 */

export interface IssuedToken {
  readonly accessToken: string;
  /** Seconds, from the token response's `expires_in`. */
  readonly expiresIn: number;
}

export class TokenCache {
  private current: { token: string; renewAt: number } | null = null;
  private inflight: Promise<string> | null = null;

  /** `issued` hears of every token as it arrives (the secret scrubber registers it before anything can echo it). */
  constructor(
    private readonly fetchToken: () => Promise<IssuedToken>,
    private readonly now: () => number,
    private readonly issued: (token: string) => void,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    this.inflight ??= this.renew().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Drops the token after a 401, unless another caller already replaced it. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }

  private async renew(): Promise<string> {
    const issued = await this.fetchToken();
    this.issued(issued.accessToken);
    const ttlMs = issued.expiresIn * 1000;
    // Renew a little early (10% of the lifetime, at most a minute) so a token never expires in flight.
    this.current = { token: issued.accessToken, renewAt: this.now() + ttlMs - Math.min(60_000, ttlMs / 10) };
    return issued.accessToken;
  }
}

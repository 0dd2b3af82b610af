/**
 * HaloPSA's OAuth2 client-credentials token endpoint and bearer check (docs/vendor-facts.md, HaloPSA "Auth";
 * HaloAPI Public/Connect-HaloAPI.ps1 builds the same request).
 */
import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { Clock } from "../../clock.js";

export interface TokenRequestRecord {
  readonly tenant: string | null;
  readonly clientId: string;
  readonly scope: string;
  readonly ok: boolean;
}

export class TokenIssuer {
  private readonly tokens = new Map<string, number>();
  readonly requests: TokenRequestRecord[] = [];
  /** Every access token handed out, so tests can check none of them leaks into logs or errors. */
  readonly issued: string[] = [];
  ttlSeconds: number;

  constructor(
    private readonly opts: { clientId: string; clientSecret: string; tenant: string | null; ttlSeconds: number; clock: Clock },
  ) {
    this.ttlSeconds = opts.ttlSeconds;
  }

  /** `POST /auth/token` and `POST /auth/token?tenant=x`, form-encoded. */
  handle(req: Request, res: Response): void {
    const tenantParam = typeof req.query["tenant"] === "string" ? req.query["tenant"] : null;
    // RFC 6749 §4.4.2: the client credentials request is application/x-www-form-urlencoded.
    if (!req.is("application/x-www-form-urlencoded")) {
      res.status(400).json({ error: "invalid_request", error_description: "expected application/x-www-form-urlencoded" });
      return;
    }
    const form = (req.body ?? {}) as Record<string, unknown>;
    const field = (k: string): string => (typeof form[k] === "string" ? form[k] : "");
    const clientId = field("client_id");
    const scope = field("scope") || "all";
    const record = (ok: boolean): void => void this.requests.push({ tenant: tenantParam, clientId, scope, ok });
    if (field("grant_type") !== "client_credentials") {
      record(false);
      res.status(400).json({ error: "unsupported_grant_type" });
      return;
    }
    // Hosted Halo shares one auth server between tenants: the tenant picks the application registry.
    if (tenantParam !== null && this.opts.tenant !== null && tenantParam !== this.opts.tenant) {
      record(false);
      res.status(400).json({ error: "invalid_request", error_description: "unknown tenant" });
      return;
    }
    // docs/vendor-facts.md: bad credentials answer 401 {"error":"invalid_client"}.
    if (clientId !== this.opts.clientId || field("client_secret") !== this.opts.clientSecret) {
      record(false);
      res.status(401).json({ error: "invalid_client" });
      return;
    }
    record(true);
    const token = randomBytes(24).toString("base64url");
    this.tokens.set(token, this.opts.clock.now().getTime() + this.ttlSeconds * 1000);
    this.issued.push(token);
    res.json({ access_token: token, token_type: "Bearer", expires_in: this.ttlSeconds, scope });
  }

  /** True when the request carries a live bearer token. */
  verify(req: Request): boolean {
    const header = req.get("authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return false;
    const expiresAt = this.tokens.get(m[1]!);
    return expiresAt !== undefined && expiresAt > this.opts.clock.now().getTime();
  }

  /** Forgets every issued token, as a restart of HaloPSA's auth server or a rotated secret would. */
  revokeAll(): void {
    this.tokens.clear();
  }
}

/**
 * An ASP.NET Core JwtBearer challenge: 401 with `WWW-Authenticate` and no body. The client must
 * not depend on a body here.
 */
export function challenge(res: Response): void {
  res.status(401).set("WWW-Authenticate", 'Bearer error="invalid_token"').end();
}

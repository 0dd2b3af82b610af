/**
 * The Huntress API client for portal users: the memberships calls of the official Huntress API
 * reference (api.huntress.io/docs): invite (POST), list (GET, following
 * next_page_token), change permissions (PATCH) and remove (DELETE), at the credentials' own
 * account (/v1/memberships) or, for a reseller key, at one managed account
 * (/v1/accounts/{account_id}/memberships).
 *
 * Secrets: the API key and secret travel only in the Authorization header (reference,
 * "Authentication": HTTP Basic). They are held in a private field (not shown by util.inspect or
 * JSON), never logged, and scrubbed from every error text.
 */
import type { z } from "zod";
import { transportOptions, type ClientTransportOptions } from "../http/options.js";
import type { RateLimit, RollingWindowLimiter } from "../http/rate-limiter.js";
import type { ConnectorError } from "../../domain/connector-error.js";
import { SecretScrubber } from "../../domain/secret-scrubber.js";
import { HuntressTransport, type Answer, type Outgoing } from "./transport.js";
import { invitationEnvelope, membershipEnvelope, membershipPage, type HuntressInvitation, type HuntressMembership, type WritablePermission } from "./wire.js";

/** fetch, log, timeoutMs, maxRetries, backoff and sleep: see ../http/options.ts. */
export interface HuntressClientOptions extends ClientTransportOptions {
  /** The API, e.g. https://api.huntress.io (a trailing /v1 is tolerated). */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** A reseller key acting on one managed account: calls go to /v1/accounts/{accountId}/memberships. */
  readonly accountId?: number | undefined;
  /**
   * Client-side sliding window; default 54 per minute. Reference, "Rate Limits": "Every Huntress
   * API account is rate limited to 60 requests per minute, on a sliding window", shared by every
   * tool using the account, so the bridge keeps a tenth back. null: off.
   */
  readonly rateLimit?: RateLimit | null;
  /** The bridge's one secret scrubber; the client registers the key, the secret and their Basic pair with it. Default: its own. */
  readonly scrubber?: SecretScrubber;
}

export interface MembershipFilter {
  readonly organizationId?: number;
  readonly userId?: number;
  readonly permissions?: WritablePermission;
}

export interface HuntressClientStats {
  /** API requests sent, every attempt counted. */
  readonly calls: number;
  readonly retries: number;
  readonly rateLimitWaits: number;
  readonly rateLimitWaitedMs: number;
}

/** GET /v1/memberships `limit`: "Defaults to 10, with a minimum of 1 and maximum 500". The maximum spends the fewest of 60 requests a minute. */
const PAGE_LIMIT = 500;
const MAX_PAGES = 1000;

export class HuntressClient {
  readonly #authorization: string;
  private readonly memberships: string;
  private readonly route: string;
  private readonly transport: HuntressTransport;
  private readonly limiter: RollingWindowLimiter | null;

  constructor(opts: HuntressClientOptions) {
    const base = opts.baseUrl.replace(/\/+$/, "").replace(/\/v1$/i, "");
    this.route = opts.accountId === undefined ? "/v1/memberships" : "/v1/accounts/{account_id}/memberships";
    this.memberships = opts.accountId === undefined ? `${base}/v1/memberships` : `${base}/v1/accounts/${opts.accountId}/memberships`;
    // RFC 7617 §2: base64("user-id:password"); reference: Base64Encode(<api_key>:<api_secret_key>).
    const token = Buffer.from(`${opts.apiKey}:${opts.apiSecret}`, "utf8").toString("base64");
    this.#authorization = `Basic ${token}`;
    const scrubber = opts.scrubber ?? new SecretScrubber();
    scrubber.register(opts.apiKey);
    scrubber.register(opts.apiSecret, { user: opts.apiKey });
    const transport = { ...transportOptions(opts, { requests: 54, windowMs: 60_000 }), scrub: scrubber.scrub };
    this.limiter = transport.limiter;
    this.transport = new HuntressTransport(transport);
  }

  stats(): HuntressClientStats {
    const limiter = this.limiter?.stats() ?? { waits: 0, waitedMs: 0 };
    return { calls: this.transport.calls, retries: this.transport.retries, rateLimitWaits: limiter.waits, rateLimitWaitedMs: limiter.waitedMs };
  }

  /**
   * POST: invites the person (MembershipCreationParameters). The membership exists only once they
   * accept, so the answer is an invitation without an id. Sent again after an ambiguous failure:
   * an invitation is not a membership, and inviting the same email again re-sends it at worst.
   */
  async invite(email: string, firstName: string, lastName: string, permissions: WritablePermission, organizationId?: number): Promise<HuntressInvitation> {
    const body = { email, first_name: firstName, last_name: lastName, permissions, ...(organizationId === undefined ? {} : { organization_id: organizationId }) };
    return this.call({ method: "POST", url: this.memberships, route: `POST ${this.route}`, body, idempotent: true }, invitationEnvelope, [201, 200]);
  }

  /**
   * GET, every page: follows `pagination.next_page_token` until there is none. Sorted by id,
   * ascending, so pages are stable while the list is read.
   */
  async listMemberships(filter: MembershipFilter = {}): Promise<HuntressMembership[]> {
    const byId = new Map<number, HuntressMembership>();
    const seen = new Set<string>();
    let token: string | null = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(PAGE_LIMIT), sort_field: "id", sort_direction: "asc" });
      if (filter.organizationId !== undefined) query.set("organization_id", String(filter.organizationId));
      if (filter.userId !== undefined) query.set("user_id", String(filter.userId));
      if (filter.permissions !== undefined) query.set("permissions", filter.permissions);
      if (token !== null) query.set("page_token", token);
      const o = { method: "GET" as const, url: `${this.memberships}?${query.toString()}`, route: `GET ${this.route}`, idempotent: true };
      const res = await this.call(o, membershipPage, [200]);
      for (const m of res.memberships) byId.set(m.id, m);
      if (res.nextPageToken === null) return [...byId.values()];
      if (seen.has(res.nextPageToken)) throw this.pagingError("the same next_page_token came back twice");
      seen.add(res.nextPageToken);
      token = res.nextPageToken;
    }
    throw this.pagingError(`more than ${MAX_PAGES} pages`);
  }

  private pagingError(detail: string): ConnectorError {
    return this.transport.error({ kind: "response", status: 200, request: `GET ${this.route}`, detail, retryable: false });
  }

  /** PATCH /{id} `{permissions}` (MembershipUpdateParameters). Setting the same value twice is harmless. */
  async updatePermissions(id: number, permissions: WritablePermission): Promise<HuntressMembership> {
    return this.call({ method: "PATCH", url: `${this.memberships}/${id}`, route: `PATCH ${this.route}/{id}`, body: { permissions }, idempotent: true }, membershipEnvelope, [200]);
  }

  /**
   * DELETE /{id}: 202. Reference, 404: "Membership not found, possibly because it has already been
   * deleted." A 404 on a retry after an attempt that may have landed is that attempt's success;
   * a 404 on the first attempt is an error (it may also mean the key cannot see the membership).
   */
  async deleteMembership(id: number): Promise<void> {
    const o = this.outgoing({ method: "DELETE", url: `${this.memberships}/${id}`, route: `DELETE ${this.route}/{id}`, idempotent: true });
    await this.transport.sendOnce(o, (a, landedBefore) => (a.status === 202 || a.status === 200 || a.status === 204 || (a.status === 404 && landedBefore) ? { value: undefined } : null));
  }

  // --- Plumbing ---

  private outgoing(r: { method: Outgoing["method"]; url: string; route: string; body?: unknown; idempotent: boolean }): Outgoing {
    const headers: Record<string, string> = { Authorization: this.#authorization, Accept: "application/json" };
    if (r.body !== undefined) headers["Content-Type"] = "application/json";
    return { method: r.method, url: r.url, route: r.route, headers, idempotent: r.idempotent, ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }) };
  }

  private async call<S extends z.ZodType>(
    r: { method: Outgoing["method"]; url: string; route: string; body?: unknown; idempotent: boolean },
    schema: S,
    ok: readonly number[],
  ): Promise<z.output<S>> {
    const o = this.outgoing(r);
    return this.transport.sendOnce(o, (a) => (ok.includes(a.status) ? { value: this.parse(o, a, schema) } : null));
  }

  private parse<S extends z.ZodType>(o: Outgoing, a: Answer, schema: S): z.output<S> {
    let json: unknown;
    try {
      json = a.text.trim() === "" ? null : JSON.parse(a.text);
    } catch {
      throw this.transport.responseError(o, a, "the answer is not JSON");
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw this.transport.responseError(o, a, `unexpected answer: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`);
    }
    return r.data;
  }
}

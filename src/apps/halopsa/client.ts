/**
 * The HaloPSA API client: OAuth2 client credentials, JSON over HTTPS, typed methods for the
 * agent, ticket, team and role calls the connector makes. Wire details come from docs/vendor-facts.md
 * (HaloPSA section) and HaloPSA's swagger; the retry and rate-limit policy lives in transport.ts.
 *
 * Secrets: the client secret travels only in the token request body and access tokens only in the
 * Authorization header. Neither is logged, and every error text is scrubbed of both.
 */
import type { z } from "zod";
import { ConnectorError } from "../../domain/connector-error.js";
import { matchingKey } from "../../domain/folding.js";
import { SecretScrubber } from "../../domain/secret-scrubber.js";
import { transportOptions, type ClientTransportOptions } from "../http/options.js";
import type { RateLimit, RollingWindowLimiter } from "../http/rate-limiter.js";
import { TokenCache } from "./token-cache.js";
import { Transport, type Answer, type Outgoing } from "./transport.js";
import {
  agentSchema,
  bareOrWrapped,
  oneOrMany,
  roleSchema,
  teamSchema,
  ticketPageSchema,
  ticketSchema,
  tokenSchema,
  type HaloAgent,
  type HaloAgentWrite,
  type HaloRole,
  type HaloTeam,
  type HaloTicket,
} from "./wire.js";

/** fetch, log, timeoutMs, maxRetries, backoff and sleep: see ../http/options.ts. */
export interface HaloPsaClientOptions extends ClientTransportOptions {
  /** The instance, e.g. https://acme.halopsa.com (a trailing /api is tolerated). */
  readonly baseUrl: string;
  /** The auth server (GET /api/authinfo's auth_url); default `{baseUrl}/auth`. */
  readonly authUrl?: string;
  /** Hosted Halo: the tenant, sent as `?tenant=` on the token request. */
  readonly tenant?: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** OAuth scope (docs/vendor-facts.md: "all" or "admin"); default "all". */
  readonly scope?: string;
  /** Epoch ms, for token expiry. */
  readonly now?: () => number;
  /** Client-side rolling window; default 270 per 5 minutes (HaloPSA allows 300, docs/vendor-facts.md). null: off. The bridge passes its share of the tenant's limit (config `halopsa.rateBudgetShare`). */
  readonly rateLimit?: RateLimit | null;
  /** The bridge's one secret scrubber; the client registers its secret and every access token with it. Default: its own. */
  readonly scrubber?: SecretScrubber;
}

export interface AgentFilters {
  /** Default true. */
  readonly includeEnabled?: boolean;
  /** Default false (HaloPSA's own default). */
  readonly includeDisabled?: boolean;
  /** HaloPSA matches it against name and email. */
  readonly search?: string;
  /** A team name. */
  readonly team?: string;
  /** swagger GET /Agent `includeroles`: ask for each agent's roles (default true). */
  readonly includeRoles?: boolean;
}

export type TicketTarget = { readonly agentId: number } | { readonly team: string };

export interface HaloPsaClientStats {
  /** API requests sent (every attempt, token requests excluded): the bench's "HaloPSA calls". */
  readonly calls: number;
  readonly tokenRequests: number;
  readonly retries: number;
  readonly rateLimitWaits: number;
  readonly rateLimitWaitedMs: number;
}

/** docs/vendor-facts.md: tickets are read 100 per page. */
const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

export class HaloPsaClient {
  private readonly base: string;
  private readonly tokenUrl: string;
  private readonly api: Transport;
  private readonly auth: Transport;
  private readonly tokens: TokenCache;
  private readonly limiter: RollingWindowLimiter | null;

  constructor(private readonly opts: HaloPsaClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "").replace(/\/api$/i, "");
    // docs/vendor-facts.md and HaloAPI Connect-HaloAPI.ps1: {auth_url}/token?tenant=<tenant> (hosted), {base}/auth/token (self-hosted).
    const authBase = (opts.authUrl ?? `${this.base}/auth`).replace(/\/+$/, "");
    this.tokenUrl = `${authBase}/token${opts.tenant ? `?tenant=${encodeURIComponent(opts.tenant)}` : ""}`;
    // docs/vendor-facts.md: HaloPSA allows 300 requests per rolling 5 minutes; 270 leaves room for other tools.
    // RFC 6749 §2.3.1: a token endpoint may also see the secret as client_secret_basic, base64("id:secret").
    const scrubber = opts.scrubber ?? new SecretScrubber();
    scrubber.register(opts.clientSecret, { user: opts.clientId });
    const transport = { ...transportOptions(opts, { requests: 270, windowMs: 300_000 }), scrub: scrubber.scrub };
    this.limiter = transport.limiter;
    this.api = new Transport(transport);
    this.auth = new Transport(transport);
    this.tokens = new TokenCache(() => this.requestToken(), opts.now ?? Date.now, (token) => scrubber.registerRotating(token));
  }

  /** The one rolling window every call of this tenant goes through (null: no client-side limit). */
  get rateWindow(): RollingWindowLimiter | null {
    return this.limiter;
  }

  stats(): HaloPsaClientStats {
    const limiter = this.limiter?.stats() ?? { waits: 0, waitedMs: 0 };
    return {
      calls: this.api.calls,
      tokenRequests: this.auth.calls,
      retries: this.api.retries + this.auth.retries,
      rateLimitWaits: limiter.waits,
      rateLimitWaitedMs: limiter.waitedMs,
    };
  }

  // --- Agents (docs/vendor-facts.md: GET bare array; POST an array to create or update; never DELETE) ---

  async listAgents(filters: AgentFilters = {}): Promise<HaloAgent[]> {
    const query: Record<string, string> = {
      includeenabled: String(filters.includeEnabled ?? true),
      includedisabled: String(filters.includeDisabled ?? false),
      includeroles: String(filters.includeRoles ?? true),
    };
    if (filters.search) query["search"] = filters.search;
    if (filters.team) query["team"] = filters.team;
    return this.call("GET", "/api/Agent", { query, schema: bareOrWrapped(agentSchema, "agents") });
  }

  /** The agent, or null when HaloPSA has no agent with this id. */
  async getAgent(id: number): Promise<HaloAgent | null> {
    try {
      return await this.call("GET", `/api/Agent/${id}`, { schema: agentSchema, route: "/api/Agent/{id}" });
    } catch (e: unknown) {
      if (e instanceof ConnectorError && e.status === 404) return null;
      throw e;
    }
  }

  /**
   * Agents whose email has the same matching key as `email` (trimmed, NFKC, case-folded:
   * docs/provisioning.md), enabled or not: `search` narrows, this filter decides.
   */
  async findAgentsByEmail(email: string): Promise<HaloAgent[]> {
    const wanted = matchingKey(email);
    if (wanted === "") return [];
    // The bridge writes the NFKC form (mapping.ts); an agent typed in by hand may hold the raw
    // form, and HaloPSA's search is not documented to fold either, so ask for both when they differ.
    const forms = [...new Set([email.normalize("NFKC").trim(), email.trim()])];
    const found = new Map<number, HaloAgent>();
    for (const search of forms) {
      for (const a of await this.listAgents({ search, includeEnabled: true, includeDisabled: true, includeRoles: true })) found.set(a.id, a);
    }
    return [...found.values()].filter((a) => matchingKey(a.email) === wanted);
  }

  /**
   * Creates (no id) or updates (id: only the fields sent) agents in one POST. Answers in input
   * order. A create is never retried after an ambiguous failure (see transport.ts): look the
   * agent up before trying again.
   */
  async saveAgents(agents: readonly HaloAgentWrite[]): Promise<HaloAgent[]> {
    if (agents.length === 0) return [];
    const saved = await this.call("POST", "/api/Agent", { body: agents, schema: oneOrMany(agentSchema), idempotent: agents.every((a) => a.id !== undefined) });
    if (saved.length !== agents.length) {
      throw this.api.error({ kind: "response", status: 200, request: "POST /api/Agent", detail: `sent ${agents.length} agents, got ${saved.length} back`, retryable: false });
    }
    agents.forEach((sent, i) => {
      // If HaloPSA ever made a new agent out of an update, say so loudly instead of mapping the wrong id.
      if (sent.id !== undefined && saved[i]!.id !== sent.id) {
        throw this.api.error({
          kind: "response",
          status: 200,
          request: "POST /api/Agent",
          detail: `update of agent ${sent.id} answered with agent ${saved[i]!.id}`,
          retryable: false,
        });
      }
    });
    return saved;
  }

  /**
   * One POST of many agents, the answer taken as a set: HaloPSA documents no order for the answer
   * to a multi-element POST (swagger "HaloPSA API", POST /Agent: request and response are arrays,
   * nothing more), so callers match updates by id and confirm creates by a later list read.
   */
  async postAgents(agents: readonly HaloAgentWrite[]): Promise<HaloAgent[]> {
    if (agents.length === 0) return [];
    return this.call("POST", "/api/Agent", { body: agents, schema: oneOrMany(agentSchema), idempotent: agents.every((a) => a.id !== undefined) });
  }

  async listTeams(): Promise<HaloTeam[]> {
    return this.call("GET", "/api/Team", { schema: bareOrWrapped(teamSchema, "teams") });
  }

  async listRoles(): Promise<HaloRole[]> {
    return this.call("GET", "/api/Roles", { schema: bareOrWrapped(roleSchema, "roles") });
  }

  // --- Tickets (docs/vendor-facts.md: open tickets of a deactivated agent drop out of every queue) ---

  /** Every open ticket assigned to the agent, following pages until record_count is reached. */
  async listOpenTickets(agentId: number): Promise<HaloTicket[]> {
    return this.openTickets({ agent_id: String(agentId) });
  }

  /** swagger GET /Tickets `agent`: "(array of int) Returns tickets based on Agent ID's in the array": one paged read for many agents. */
  async listOpenTicketsOf(agentIds: readonly number[]): Promise<HaloTicket[]> {
    return agentIds.length === 0 ? [] : this.openTickets({ agent: agentIds.join(",") });
  }

  private async openTickets(filter: Record<string, string>): Promise<HaloTicket[]> {
    const byId = new Map<number, HaloTicket>();
    for (let page = 1; page <= MAX_PAGES; page++) {
      const query = { ...filter, open_only: "true", pageinate: "true", page_no: String(page), page_size: String(PAGE_SIZE) };
      const res = await this.call("GET", "/api/Tickets", { query, schema: ticketPageSchema });
      for (const t of res.tickets) byId.set(t.id, t);
      if (res.tickets.length < PAGE_SIZE || page * PAGE_SIZE >= res.record_count) break;
    }
    return [...byId.values()];
  }

  /**
   * Moves tickets to an agent, or to a team's queue (unassigning the agent: agent_id 0), 100 per
   * POST. Setting a value twice is harmless, so these POSTs are retried like reads.
   */
  async reassignTickets(ticketIds: readonly number[], target: TicketTarget): Promise<number> {
    let moved = 0;
    for (let i = 0; i < ticketIds.length; i += PAGE_SIZE) {
      const chunk = ticketIds.slice(i, i + PAGE_SIZE);
      const body = chunk.map((id) => ("agentId" in target ? { id, agent_id: target.agentId } : { id, team: target.team, agent_id: 0 }));
      const saved = await this.call("POST", "/api/Tickets", { body, schema: oneOrMany(ticketSchema), idempotent: true });
      moved += saved.length;
    }
    return moved;
  }

  // --- Plumbing ---

  /** One API call through this client's transport (its one rate budget); for the API modules of this folder. */
  async call<S extends z.ZodType>(
    method: "GET" | "POST",
    path: string,
    req: { query?: Record<string, string>; body?: unknown; schema: S; idempotent?: boolean; route?: string },
  ): Promise<z.infer<S>> {
    const url = `${this.base}${path}${req.query ? `?${new URLSearchParams(req.query).toString()}` : ""}`;
    const route = `${method} ${req.route ?? path}`;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    let token = "";
    let refreshed = false;
    const build = async (): Promise<Outgoing> => {
      token = await this.tokens.get();
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return { method, url, route, headers, body, idempotent: req.idempotent ?? method === "GET" };
    };
    return this.api.send(build, (o, a) => {
      if (a.status === 401 && !refreshed) {
        // The token expired early or was revoked: fetch one fresh token and send once more.
        refreshed = true;
        this.tokens.invalidate(token);
        return "again";
      }
      if (a.status === 401) throw this.api.httpError(o, a, "HaloPSA refused a freshly issued token; check the API application's permissions");
      return a.status >= 200 && a.status < 300 ? { value: this.parse(o, a, req.schema) } : null;
    });
  }

  private parse<S extends z.ZodType>(o: Outgoing, a: Answer, schema: S): z.infer<S> {
    const fail = (detail: string): ConnectorError => this.api.error({ kind: "response", status: a.status, request: o.route, detail, retryable: false });
    let json: unknown;
    try {
      json = a.text.trim() === "" ? null : JSON.parse(a.text);
    } catch {
      throw fail("the answer is not JSON");
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw fail(`unexpected answer: ${issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid"}`);
    }
    return r.data;
  }

  /** OAuth2 client credentials (RFC 6749 §4.4), form-encoded, as docs/vendor-facts.md and HaloAPI describe. */
  private async requestToken(): Promise<{ accessToken: string; expiresIn: number }> {
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: this.opts.scope ?? "all",
    });
    const o: Outgoing = {
      method: "POST",
      url: this.tokenUrl,
      route: "POST /auth/token",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: form.toString(),
      idempotent: true,
    };
    return this.auth.send(
      async () => o,
      (_o, a) => {
        if (a.status === 400 || a.status === 401) {
          throw this.auth.httpError(o, a, "check the client ID, client secret, tenant and scope of the HaloPSA API application");
        }
        if (a.status < 200 || a.status >= 300) return null;
        const t = this.parse(o, a, tokenSchema);
        // No expires_in: assume a short life; a 401 refreshes it anyway.
        return { value: { accessToken: t.access_token, expiresIn: t.expires_in ?? 300 } };
      },
    );
  }
}

/**
 * The HaloPSA simulator's HTTP server: a real express app on loopback that authenticates, rate
 * limits and fails the way HaloPSA does, so the client and connector are tested across real HTTP.
 */
import express, { type Request, type RequestHandler, type Response } from "express";
import { systemClock, type Clock } from "../../clock.js";
import { challenge, TokenIssuer, type TokenRequestRecord } from "./auth.js";
import { errorBody, Faults, RATE_LIMIT_TEXT, RollingWindow, type RateLimit } from "./faults.js";
import { errorHandler, listen, RequestCounter } from "../sim/server.js";
import { SimHttpError, type ErrorShape, type SimAgent, type SimTicket } from "./model.js";
import * as routes from "./routes.js";
import { SimState } from "./state.js";
import { SimActions } from "./ticket-actions.js";

export interface HaloPsaSimulatorOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The hosted tenant; a token request naming another tenant is refused. null: self-hosted. */
  readonly tenant?: string | null;
  /** `expires_in` of issued tokens (default 3600 s). */
  readonly tokenTtlSeconds?: number;
  /** Drives token expiry, datecreated and lastlogindate. */
  readonly clock?: Clock;
  /** docs/vendor-facts.md: 300 requests per rolling 5 minutes on hosted Halo. null turns it off. */
  readonly rateLimit?: RateLimit | null;
  readonly listShapes?: Partial<routes.ListShapes>;
  /** Seed the default teams, roles and the API agent (default true). */
  readonly seed?: boolean;
}

export interface HaloPsaSimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (the API is under /api, auth under /auth). */
  readonly url: string;
  /** What `GET /api/authinfo` reports as auth_url. */
  readonly authUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenant: string | null;
  readonly state: SimState;
  readonly faults: Faults;
  /** Switchable at runtime. */
  readonly listShapes: routes.ListShapes;
  readonly tokenRequests: readonly TokenRequestRecord[];
  readonly issuedTokens: readonly string[];
  /** Requests received per "METHOD /route" (e.g. "DELETE /api/Agent/:id"), faulted ones included. */
  readonly requestCounts: ReadonlyMap<string, number>;
  /** Every `DELETE /api/Agent/{id}` carried out or refused (404), in order; never reset. */
  readonly agentDeletes: readonly routes.AgentDeleteRecord[];
  /** The query of every `GET /api/Tickets`, lower-cased keys, in order (paging and filters are asserted on). */
  readonly ticketQueries: readonly Record<string, string>[];
  /** Ticket actions (notes), with the test hooks that close or reopen a ticket as an agent would. */
  readonly actions: SimActions;
  /** Responses sent per HTTP status. */
  readonly statusCounts: ReadonlyMap<number, number>;
  requestCount(method: string, route: string): number;
  resetCounts(): void;
  seedAgent(partial?: Parameters<SimState["seedAgent"]>[0]): SimAgent;
  seedTickets(count: number, fields?: Partial<Omit<SimTicket, "id">>): SimTicket[];
  recordLogin(agentId: number): void;
  setTokenTtl(seconds: number): void;
  /** Forgets every token: the next API call gets 401. */
  revokeTokens(): void;
  setRateLimit(limit: RateLimit | null): void;
  close(): Promise<void>;
}

const JSON_TYPES = ["application/json", "text/json", "application/*+json"];

/** The request body as JSON, or undefined when it is unreadable or the client cut the request short. */
async function readJsonBody(req: Request): Promise<unknown> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

export async function startHaloPsaSimulator(options: HaloPsaSimulatorOptions = {}): Promise<HaloPsaSimulator> {
  const clock = options.clock ?? systemClock;
  const clientId = options.clientId ?? "sim-client-id";
  const clientSecret = options.clientSecret ?? "sim-client-secret-0123456789";
  const tenant = options.tenant ?? null;
  const state = new SimState(clock);
  if (options.seed ?? true) state.seedDefaults();
  const faults = new Faults();
  const listShapes: routes.ListShapes = { teams: "bare", roles: "bare", agentSaveOrder: "input", ...options.listShapes };
  const issuer = new TokenIssuer({ clientId, clientSecret, tenant, ttlSeconds: options.tokenTtlSeconds ?? 3600, clock });
  let window: RollingWindow | null = options.rateLimit === null ? null : new RollingWindow(options.rateLimit ?? { requests: 300, windowMs: 300_000 });
  const counter = new RequestCounter();
  const count = (key: string): RequestHandler => counter.count(key);

  const sendError = (res: Response, status: number, message: string, shape: ErrorShape = faults.errorShape): void => {
    const body = errorBody(shape, status, message);
    if (body.json !== undefined) res.status(status).json(body.json);
    else res.status(status).type("text/plain").send(body.text ?? "");
  };

  /** Latency, the rolling-window limit, then any injected fault, in the order a gateway meets them. */
  const gate: RequestHandler = async (req, res, next) => {
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const fault = faults.take(req.method, req.path);
    if (fault?.kind === "rateLimit" || (window !== null && !window.tryAdmit())) {
      // docs/vendor-facts.md: plain-text body, no Retry-After.
      res.status(429).type("text/plain").send(RATE_LIMIT_TEXT);
      return;
    }
    if (fault?.kind === "error") return sendError(res, fault.status, fault.message ?? `Injected failure (${fault.status})`, fault.shape);
    if (fault?.kind === "hang") {
      if (!fault.commit) return; // never answered: the socket stays open until the client gives up
      // The write lands; the reply is swallowed.
      const swallow = (): Response => res;
      Object.assign(res, { json: swallow, send: swallow, end: swallow });
      if (fault.landAfterMs > 0) {
        // A slow HaloPSA: the write (e.g. swagger "HaloPSA API" POST /Agent, a create) lands after
        // the client has timed out. The body is read now, while the socket is still open; the JSON
        // parser later in the chain then sees a finished request and keeps the body set here.
        const body = await readJsonBody(req);
        if (body === undefined) return; // cut before the body arrived: nothing can land
        req.body = body;
        void faults.landLate(fault.landAfterMs, () => next());
        return;
      }
    }
    next();
  };

  const bearer: RequestHandler = (req, res, next) => (issuer.verify(req) ? next() : challenge(res));
  const requireJson: RequestHandler = (req, _res, next) => {
    // swagger: POST bodies are application/json, text/json or application/*+json.
    if (!req.is(JSON_TYPES)) throw new SimHttpError(415, "Unsupported Media Type: send application/json");
    next();
  };
  const json = express.json({ type: JSON_TYPES, limit: "5mb" });

  const app = express();
  app.disable("x-powered-by");
  const api = (method: "get" | "post" | "delete", route: string, ...handlers: RequestHandler[]): void => {
    const chain = [count(`${method.toUpperCase()} ${route}`), gate, bearer, ...(method === "post" ? [requireJson, json] : []), ...handlers];
    app[method](route, ...chain);
  };

  app.post("/auth/token", count("POST /auth/token"), gate, express.urlencoded({ extended: false }), (req, res) => issuer.handle(req, res));
  // HaloAPI Connect-HaloAPI.ps1 reads auth_url and tenant_id from here, unauthenticated, then POSTs to {auth_url}/token.
  app.get("/api/authinfo", count("GET /api/authinfo"), gate, (_req, res) => {
    res.json({ auth_url: `${url}/auth`, tenant_id: tenant ?? "" });
  });
  api("get", "/api/Agent", routes.listAgents(state));
  api("get", "/api/Agent/:id", routes.getAgent(state));
  api("post", "/api/Agent", routes.saveAgents(state, listShapes));
  const agentDeletes: routes.AgentDeleteRecord[] = [];
  api("delete", "/api/Agent/:id", routes.deleteAgent(state, agentDeletes));
  const ticketQueries: Record<string, string>[] = [];
  const actions = new SimActions(state, clock);
  api("get", "/api/Tickets", routes.listTickets(state, ticketQueries));
  api("post", "/api/Tickets", routes.saveTickets(state));
  api("get", "/api/Actions", routes.listActions(actions));
  api("post", "/api/Actions", routes.saveActions(state, actions));
  api("get", "/api/Status", routes.listStatuses(state));
  api("get", "/api/Team", routes.listTeams(state, listShapes));
  api("get", "/api/Roles", routes.listRoles(state, listShapes));
  app.use((req, res) => {
    counter.countUnrouted(req.method, req.path);
    sendError(res, 404, `No resource at ${req.path}`);
  });
  app.use(errorHandler((res, status, message) => sendError(res, status, message), { internal: "An unexpected error occurred", badRequest: "Bad request" }));

  const server = await listen(app, options.host ?? "127.0.0.1", options.port ?? 0);
  const url = server.url;

  return {
    url,
    authUrl: `${url}/auth`,
    clientId,
    clientSecret,
    tenant,
    state,
    faults,
    listShapes,
    tokenRequests: issuer.requests,
    issuedTokens: issuer.issued,
    requestCounts: counter.requests,
    agentDeletes,
    ticketQueries,
    actions,
    statusCounts: counter.statuses,
    requestCount: (method, route) => counter.requestCount(method, route),
    resetCounts: () => counter.reset(),
    seedAgent: (partial) => state.seedAgent(partial),
    seedTickets: (n, fields) => state.seedTickets(n, fields),
    recordLogin: (id) => state.recordLogin(id),
    setTokenTtl: (seconds) => void (issuer.ttlSeconds = seconds),
    revokeTokens: () => issuer.revokeAll(),
    setRateLimit: (limit) => void (window = limit === null ? null : new RollingWindow(limit)),
    close: () => server.close(),
  };
}

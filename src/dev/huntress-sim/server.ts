/**
 * The Huntress simulator's HTTP server: a real express app on loopback that authenticates, rate
 * limits and fails the way the Huntress API reference describes, so the client and the connector
 * of huntress apps are tested across real HTTP.
 */
import express, { type RequestHandler, type Response } from "express";
import { systemClock, type Clock } from "../../clock.js";
import { RollingWindow, type RateLimit } from "../sim/rolling-window.js";
import { errorHandler, listen, RequestCounter } from "../sim/server.js";
import { authenticates, challenge, type ApiCredentials } from "./auth.js";
import { Faults } from "./faults.js";
import { errorBody, type Permission, type SimInvitation, type SimMembership } from "./model.js";
import * as routes from "./routes.js";
import { SimState } from "./state.js";

export type { RateLimit };

export interface HuntressSimulatorOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly apiKey?: string;
  readonly apiSecret?: string;
  /** The account the credentials belong to (default: the reference's example, 1234). */
  readonly account?: { readonly id: number; readonly name: string };
  /** Drives membership timestamps and the rate-limit window. */
  readonly clock?: Clock;
  /** Reference, "Rate Limits": 60 requests per minute on a sliding window (the default). null turns it off. */
  readonly rateLimit?: RateLimit | null;
  /** Seed the account owner, an account Admin, as every real account has one (default true). */
  readonly seedOwner?: boolean;
}

export interface HuntressSimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (the API is under /v1). */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly state: SimState;
  readonly faults: Faults;
  /** Requests received per "METHOD /route" (e.g. "PATCH /v1/memberships/:id"), refused ones included. */
  readonly requestCounts: ReadonlyMap<string, number>;
  /** Responses sent per HTTP status. */
  readonly statusCounts: ReadonlyMap<number, number>;
  requestCount(method: string, route: string): number;
  resetCounts(): void;
  /** The invitee accepts: their pending invitation(s) become memberships. */
  acceptInvitation(email: string, scopeId?: number): SimMembership[];
  seedMembership(p: Parameters<SimState["seedMembership"]>[0]): SimMembership;
  /** Pending invitations (not memberships yet). */
  readonly invitations: readonly SimInvitation[];
  /** Memberships of the user with this email, any scope. */
  membershipsOf(email: string): SimMembership[];
  permissionsOf(email: string): Permission | undefined;
  /** false: the key lacks access to memberships, every memberships call answers 403. */
  setMembershipsScope(allowed: boolean): void;
  /** false: a read-only key, whose memberships reads answer and writes (POST, PATCH, DELETE) answer 403. */
  setWritePermission(allowed: boolean): void;
  setRateLimit(limit: RateLimit | null): void;
  close(): Promise<void>;
}

export const DEFAULT_API_KEY = "sim-huntress-api-key-0001";
export const DEFAULT_API_SECRET = "sim-huntress-api-secret-0123456789abcdef";

export async function startHuntressSimulator(options: HuntressSimulatorOptions = {}): Promise<HuntressSimulator> {
  const clock = options.clock ?? systemClock;
  const credentials: ApiCredentials = { apiKey: options.apiKey ?? DEFAULT_API_KEY, apiSecret: options.apiSecret ?? DEFAULT_API_SECRET };
  const state = new SimState(clock, options.account);
  if (options.seedOwner ?? true) state.seedMembership({ email: "owner@huntress-customer.example", name: "Account Owner", permissions: "Admin" });
  const faults = new Faults();
  const windowOf = (limit: RateLimit | null): RollingWindow | null => (limit === null ? null : new RollingWindow(limit, () => clock.now().getTime()));
  let window = windowOf(options.rateLimit === undefined ? { requests: 60, windowMs: 60_000 } : options.rateLimit);
  let membershipsScope = true;
  let writePermission = true;
  const counter = new RequestCounter();
  const count = (key: string): RequestHandler => counter.count(key);

  const sendError = (res: Response, status: number, message: string): void => {
    const body = errorBody(faults.errorShape, status, message);
    res.status(status);
    if (body === undefined) res.end();
    else res.json(body);
  };

  /**
   * In the order the API meets them: credentials (the limit is per account, so it needs to know
   * whose), the sliding window, the key's access to memberships, then any injected fault.
   */
  const gate: RequestHandler = async (req, res, next) => {
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (!authenticates(req, credentials)) return challenge(res, faults.errorShape);
    const tooMany = (): void => sendError(res, 429, "Too many requests: the Huntress API allows 60 requests per minute");
    // Reference, "Rate Limits": no more than 60 requests within any 60 seconds; a refused request
    // does not count (in its example, request 61 refused at T55 still lets request 61 in at T61).
    if (window !== null && !window.tryAdmit()) return tooMany();
    // Reference, 403 on every memberships path: "There was an issue with your API credential or permissions."
    if (!membershipsScope) return sendError(res, 403, "There was an issue with your API credential or permissions.");
    // Reference (e.g. PATCH /v1/agents/{id}): "Note that the default account API key is read-only, so
    // you'll need to create a user-based API key with the appropriate permissions"; such a key's
    // writes get the same 403.
    if (!writePermission && req.method !== "GET") return sendError(res, 403, "There was an issue with your API credential or permissions.");
    const fault = faults.take(req.method, req.path);
    if (fault?.kind === "rateLimit") return tooMany();
    if (fault?.kind === "error") return sendError(res, fault.status, fault.message ?? `Injected failure (${fault.status})`);
    if (fault?.kind === "hang") {
      if (!fault.commit) return; // never answered: the socket stays open until the client gives up
      const swallow = (): Response => res;
      Object.assign(res, { json: swallow, send: swallow, end: swallow });
    }
    next();
  };

  // Reference: "consumes": ["application/json"] on POST and PATCH.
  const json = express.json({ type: ["application/json", "application/*+json"], limit: "1mb" });

  const app = express();
  app.disable("x-powered-by");
  const api = (method: "get" | "post" | "patch" | "delete", route: string, handler: RequestHandler): void => {
    app[method](route, count(`${method.toUpperCase()} ${route}`), gate, ...(method === "post" || method === "patch" ? [json] : []), handler);
  };
  // The same operations at the credentials' own account and, for reseller keys, at a managed one.
  for (const base of ["/v1", "/v1/accounts/:account_id"]) {
    api("get", `${base}/memberships`, routes.listMemberships(state));
    api("post", `${base}/memberships`, routes.createMembership(state));
    api("get", `${base}/memberships/:id`, routes.getMembership(state));
    api("patch", `${base}/memberships/:id`, routes.updateMembership(state));
    api("delete", `${base}/memberships/:id`, routes.deleteMembership(state));
  }
  app.use((req, res) => {
    counter.countUnrouted(req.method, req.path);
    sendError(res, 404, "Not Found");
  });
  app.use(errorHandler(sendError, { internal: "Internal Server Error", badRequest: "Bad Request" }));

  const server = await listen(app, options.host ?? "127.0.0.1", options.port ?? 0);
  const url = server.url;
  const fold = (e: string): string => e.trim().toLowerCase();
  const membershipsOf = (email: string): SimMembership[] =>
    [...state.memberships.values()].filter((m) => fold(state.user(m.userId).email) === fold(email)).sort((a, b) => a.id - b.id);

  return {
    url,
    apiKey: credentials.apiKey,
    apiSecret: credentials.apiSecret,
    state,
    faults,
    requestCounts: counter.requests,
    statusCounts: counter.statuses,
    requestCount: (method, route) => counter.requestCount(method, route),
    resetCounts: () => counter.reset(),
    acceptInvitation: (email, scopeId) => state.acceptInvitation(email, scopeId),
    seedMembership: (p) => state.seedMembership(p),
    get invitations() {
      return state.invitations;
    },
    membershipsOf,
    permissionsOf: (email) => membershipsOf(email).find((m) => m.scope.kind === "account")?.permissions,
    setMembershipsScope: (allowed) => void (membershipsScope = allowed),
    setWritePermission: (allowed) => void (writePermission = allowed),
    setRateLimit: (limit) => void (window = windowOf(limit)),
    close: () => server.close(),
  };
}

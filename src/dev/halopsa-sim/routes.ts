/**
 * The HaloPSA API resources the bridge uses, as HaloPSA answers them. Paths and query parameters
 * are those of HaloPSA's swagger ("HaloPSA API", served with the API documentation at <instance>/apidoc); response
 * layouts follow docs/vendor-facts.md where the swagger leaves them out (it documents every 200 as "Success").
 */
import type { Request, Response } from "express";
import { SimHttpError, type SimAgent, type SimTicket } from "./model.js";
import { agentWriteSchema, parseArrayBody, ticketWriteSchema, type SimState } from "./state.js";
import { actionWriteSchema, type SimActions } from "./ticket-actions.js";

export interface ListShapes {
  /** `GET /api/Team`: a bare array (default) or `{teams:[...]}` (docs/vendor-facts.md: the real layout is unconfirmed). */
  teams: "bare" | "wrapped";
  /** `GET /api/Roles`: a bare array (default) or `{roles:[...]}`. */
  roles: "bare" | "wrapped";
  /**
   * The order of the answer to a multi-element `POST /api/Agent`: the swagger ("HaloPSA API",
   * POST /Agent) documents an array in and an array out, and no order, so a client must not rely
   * on it. "reversed" answers last-sent first, so a test can prove the bridge does not.
   */
  agentSaveOrder: "input" | "reversed";
}

/** express 5 re-parses req.query on every access: read it once into plain strings. */
function queryOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) if (typeof v === "string") out[k.toLowerCase()] = v;
  return out;
}

/** HaloPSA's boolean query parameters are strings in the swagger ("includedisabled", "includeenabled"). */
function flag(q: Record<string, string>, name: string, fallback: boolean): boolean {
  const v = q[name];
  return v === undefined ? fallback : v.toLowerCase() === "true";
}

function intParam(q: Record<string, string>, name: string): number | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new SimHttpError(400, `The value '${v}' is not valid for ${name}.`);
  return n;
}

/**
 * swagger GET /Agent has `includeroles`: the list leaves roles out unless asked, so readers that
 * need roles must say so. `GET /Agent/{id}` always carries them.
 */
function renderAgent(a: SimAgent, withRoles: boolean): Record<string, unknown> {
  const { roles, teams, ...rest } = a;
  return {
    ...rest,
    teams: teams.map((m) => ({ agent_id: a.id, ...m })),
    ...(withRoles ? { roles: roles.map((r) => ({ ...r })) } : {}),
    use: "agent",
  };
}

function renderTicket(t: SimTicket, state: SimState): Record<string, unknown> {
  const agent = state.agents.get(t.agent_id);
  return { ...t, agent_name: agent?.name ?? "Unassigned" };
}

/**
 * docs/vendor-facts.md: a POST of one element answers with the object. What a POST of several answers
 * is unconfirmed; the simulator answers the array, and can reverse its order to prove the bridge
 * never relies on it.
 */
function oneOrMany<T>(items: T[]): T | T[] {
  return items.length === 1 ? items[0]! : items;
}

export function listAgents(state: SimState) {
  return (req: Request, res: Response): void => {
    const q = queryOf(req);
    // swagger GET /Agent: includeenabled / includedisabled (enabled only by default), search, team.
    const enabled = flag(q, "includeenabled", true);
    const disabled = flag(q, "includedisabled", false);
    const apiAgents = flag(q, "includeapiagents", false);
    const search = (q["search"] ?? "").trim().toLowerCase();
    const team = (q["team"] ?? "").trim().toLowerCase();
    const out = [...state.agents.values()]
      .filter((a) => (a.isdisabled ? disabled : enabled))
      .filter((a) => apiAgents || !a.isapiagent)
      .filter((a) => search === "" || a.name.toLowerCase().includes(search) || a.email.toLowerCase().includes(search))
      .filter((a) => team === "" || a.team.toLowerCase() === team || a.teams.some((m) => m.team_name.toLowerCase() === team))
      .sort((x, y) => x.id - y.id)
      .map((a) => renderAgent(a, flag(q, "includeroles", false)));
    // docs/vendor-facts.md: GET /api/Agent answers a bare JSON array, no paging.
    res.json(out);
  };
}

export function getAgent(state: SimState) {
  return (req: Request, res: Response): void => {
    const id = Number(req.params["id"]);
    const agent = Number.isInteger(id) ? state.agents.get(id) : undefined;
    if (!agent) throw new SimHttpError(404, `Agent ${String(req.params["id"])} not found`);
    res.json(renderAgent(agent, true));
  };
}

export function saveAgents(state: SimState, shapes: ListShapes) {
  return (req: Request, res: Response): void => {
    const inputs = parseArrayBody(req.body, agentWriteSchema, "Agent");
    const saved = inputs.map((input) => renderAgent(state.saveAgent(input), true));
    res.json(oneOrMany(shapes.agentSaveOrder === "reversed" ? saved.reverse() : saved));
  };
}

/** One `DELETE /api/Agent/{id}` that reached the handler; `existed` is false for a 404. */
export interface AgentDeleteRecord {
  readonly id: string;
  readonly existed: boolean;
}

/**
 * swagger "HaloPSA API" DELETE /Agent/{id}. The bridge must never call it (docs/vendor-facts.md: agents are
 * disabled, never deleted), so every call is kept in `deletes` for tests to assert on.
 */
export function deleteAgent(state: SimState, deletes: AgentDeleteRecord[]) {
  return (req: Request, res: Response): void => {
    const id = Number(req.params["id"]);
    const existed = state.agents.delete(id);
    deletes.push({ id: String(req.params["id"]), existed });
    if (!existed) throw new SimHttpError(404, `Agent ${String(req.params["id"])} not found`);
    res.status(200).end();
  };
}

/** swagger GET /Tickets `ticketids`: "Returns only the tickets specified", a comma-separated list. */
function idList(q: Record<string, string>, name: string): Set<number> | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  const ids = v.split(",").map((part) => Number(part.trim()));
  if (ids.some((n) => !Number.isInteger(n))) throw new SimHttpError(400, `The value '${v}' is not valid for ${name}.`);
  return new Set(ids);
}

export function listTickets(state: SimState, queries: Record<string, string>[]) {
  return (req: Request, res: Response): void => {
    const q = queryOf(req);
    queries.push(q);
    const agentId = intParam(q, "agent_id");
    // swagger GET /Tickets `agent`: "(array of int) Returns tickets based on Agent ID's in the array" (comma-separated here).
    const agents = idList(q, "agent");
    const openOnly = flag(q, "open_only", false);
    const ids = idList(q, "ticketids");
    // swagger GET /Tickets `search_summary`: "Returns tickets based on the summary matching the search" (a contains match here).
    const inSummary = q["search_summary"]?.toLowerCase();
    const all = [...state.tickets.values()]
      .filter((t) => agentId === undefined || t.agent_id === agentId)
      .filter((t) => agents === undefined || agents.has(t.agent_id))
      .filter((t) => !openOnly || state.isOpen(t))
      .filter((t) => ids === undefined || ids.has(t.id))
      .filter((t) => inSummary === undefined || t.summary.toLowerCase().includes(inSummary))
      .sort((x, y) => x.id - y.id);
    // docs/vendor-facts.md: `pageinate=true&page_no=N&page_size=M` answers `{record_count, tickets}` for page N (1-based).
    if (flag(q, "pageinate", false)) {
      const pageNo = Math.max(1, intParam(q, "page_no") ?? 1);
      const pageSize = Math.max(1, intParam(q, "page_size") ?? 50);
      const page = all.slice((pageNo - 1) * pageSize, pageNo * pageSize);
      res.json({ page_no: pageNo, page_size: pageSize, record_count: all.length, tickets: page.map((t) => renderTicket(t, state)) });
      return;
    }
    res.json({ record_count: all.length, tickets: all.map((t) => renderTicket(t, state)) });
  };
}

export function saveTickets(state: SimState) {
  return (req: Request, res: Response): void => {
    const inputs = parseArrayBody(req.body, ticketWriteSchema, "Tickets");
    // An unknown ticket is refused before any element is applied.
    for (const input of inputs) {
      if (input.id !== undefined && input.id > 0 && !state.tickets.has(input.id)) throw new SimHttpError(404, `Ticket ${input.id} not found`);
    }
    res.json(oneOrMany(inputs.map((input) => renderTicket(state.saveTicket(input), state))));
  };
}

/** swagger POST /Actions (array of Actions); the API application's agent is who did it. */
export function saveActions(state: SimState, actions: SimActions) {
  return (req: Request, res: Response): void => {
    const inputs = parseArrayBody(req.body, actionWriteSchema, "Actions");
    // Every ticket is checked before any action is applied.
    for (const input of inputs) if (!state.tickets.has(input.ticket_id)) throw new SimHttpError(404, `Ticket ${input.ticket_id} not found`);
    const apiAgent = [...state.agents.values()].find((a) => a.isapiagent)?.id ?? 1;
    res.json(oneOrMany(inputs.map((input) => actions.add(input, apiAgent))));
  };
}

/** swagger GET /Actions `ticket_id`; the answer is wrapped as `{record_count, actions}` (HaloAPI Get-HaloAction reads `actions`). */
export function listActions(actions: SimActions) {
  return (req: Request, res: Response): void => {
    const ticketId = intParam(queryOf(req), "ticket_id");
    const out = ticketId === undefined ? actions.all : actions.of(ticketId);
    res.json({ record_count: out.length, actions: out });
  };
}

/** swagger GET /Status `excludeclosed`: leaves the closed statuses out. A bare array of TStatus. */
export function listStatuses(state: SimState) {
  return (req: Request, res: Response): void => {
    const excludeClosed = flag(queryOf(req), "excludeclosed", false);
    res.json(state.statuses.filter((s) => !excludeClosed || !s.closed).map((s) => ({ id: s.id, name: s.name })));
  };
}

export function listTeams(state: SimState, shapes: ListShapes) {
  return (req: Request, res: Response): void => {
    const q = queryOf(req);
    const teams = state.teams
      .filter((t) => !t.inactive || flag(q, "includedisabled", false))
      .map((t) => ({ id: t.id, name: t.name, inactive: t.inactive, forrequests: true, department_id: 1 }));
    res.json(shapes.teams === "wrapped" ? { record_count: teams.length, teams } : teams);
  };
}

export function listRoles(state: SimState, shapes: ListShapes) {
  return (_req: Request, res: Response): void => {
    const roles = state.roles.map((r) => ({ id: r.id, name: r.name, is_integration: false }));
    res.json(shapes.roles === "wrapped" ? { record_count: roles.length, roles } : roles);
  };
}

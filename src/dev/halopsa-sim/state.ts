/**
 * The simulator's data and the rules HaloPSA applies when it is written: agents, tickets, teams
 * and roles held in memory, exposed to tests as plain records. Handlers parse the wire, this file
 * applies the change.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../../clock.js";
import { CLOSED_STATUS_ID, SimHttpError, type SimAgent, type SimRole, type SimStatus, type SimTeam, type SimTicket, type SimTicketType } from "./model.js";

export const DEFAULT_TEAMS = ["1st Line", "2nd Line", "Escalations", "Triage"];
export const DEFAULT_ROLES = ["Administrator", "Agent", "Read Only"];
/**
 * A fresh instance's ticket statuses: HaloPSA's built-in New (1), In Progress (2) and Closed (9),
 * plus a second closed status an instance might add, so a reader that hard-codes 9 is caught.
 */
export const DEFAULT_STATUSES: readonly SimStatus[] = [
  { id: 1, name: "New", closed: false },
  { id: 2, name: "In Progress", closed: false },
  { id: 3, name: "Action Required", closed: false },
  { id: CLOSED_STATUS_ID, name: "Closed", closed: true },
  { id: 21, name: "Resolved Remotely", closed: true },
];
export const DEFAULT_TICKET_TYPES: readonly SimTicketType[] = [
  { id: 1, name: "Incident" },
  { id: 3, name: "Service Request" },
];

/**
 * One element of the `POST /api/Agent` array (swagger: requestBody is `array of Uname`). Fields not
 * listed are ignored, as ASP.NET model binding ignores unknown members; a wrong type is a 400.
 */
const agentWrite = z.looseObject({
  id: z.number().int().optional(),
  name: z.string().nullable().optional(),
  firstname: z.string().nullable().optional(),
  surname: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  isdisabled: z.boolean().nullable().optional(),
  team: z.string().nullable().optional(),
  // swagger UnameSection: a membership names its team by team_id and/or team_name.
  teams: z
    .array(z.looseObject({ team_id: z.number().int().nullable().optional(), team_name: z.string().nullable().optional() }))
    .nullable()
    .optional(),
  // swagger NHD_Roles: `id` is a string GUID.
  roles: z.array(z.looseObject({ id: z.string() })).nullable().optional(),
  licence_type: z.number().int().nullable().optional(),
  isapiagent: z.boolean().nullable().optional(),
});
export type AgentWrite = z.infer<typeof agentWrite>;

/** One element of `POST /api/Tickets` (swagger: array of Faults): no id creates, an id updates the fields sent. */
const ticketWrite = z.looseObject({
  id: z.number().int().optional(),
  summary: z.string().optional(),
  details_html: z.string().nullable().optional(),
  tickettype_id: z.number().int().nullable().optional(),
  priority_id: z.number().int().nullable().optional(),
  client_id: z.number().int().nullable().optional(),
  site_id: z.number().int().nullable().optional(),
  third_party_id_string: z.string().nullable().optional(),
  agent_id: z.number().int().nullable().optional(),
  team: z.string().nullable().optional(),
  status_id: z.number().int().optional(),
});

export function parseArrayBody<T>(body: unknown, schema: z.ZodType<T>, what: string): T[] {
  // swagger: POST /Agent and POST /Tickets take a JSON array, never a bare object.
  if (!Array.isArray(body)) throw new SimHttpError(400, `The ${what} request body must be a JSON array`);
  return body.map((item, i) => {
    const r = schema.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new SimHttpError(400, `Invalid ${what} at index ${i}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim());
    }
    return r.data;
  });
}

export const agentWriteSchema = agentWrite;
export const ticketWriteSchema = ticketWrite;

/** HaloPSA dates carry no offset (ASP.NET DateTime, kind unspecified): "2024-05-01T09:30:00.000". */
export function haloDate(d: Date): string {
  return d.toISOString().replace(/Z$/, "");
}

export class SimState {
  readonly agents = new Map<number, SimAgent>();
  readonly tickets = new Map<number, SimTicket>();
  readonly teams: SimTeam[] = [];
  readonly roles: SimRole[] = [];
  readonly statuses: SimStatus[] = [...DEFAULT_STATUSES];
  readonly ticketTypes: SimTicketType[] = [...DEFAULT_TICKET_TYPES];
  private nextAgentId = 1;
  private nextTicketId = 1000;
  private nextTeamId = 1;

  constructor(private readonly clock: Clock) {}

  seedDefaults(): void {
    for (const name of DEFAULT_TEAMS) this.addTeam(name);
    for (const name of DEFAULT_ROLES) this.addRole(name);
    // Every instance has the agent its API application signs in as (HaloPSA guide "Setting up an API Agent").
    this.seedAgent({ name: "API Agent", email: "", isapiagent: true, team: "" });
  }

  addTeam(name: string): SimTeam {
    const team = { id: this.nextTeamId++, name, inactive: false };
    this.teams.push(team);
    return team;
  }

  addRole(name: string): SimRole {
    const role = { id: randomUUID(), name };
    this.roles.push(role);
    return role;
  }

  /** Adds an agent as if an admin had made it by hand (no validation, no request counted). */
  seedAgent(partial: Partial<Omit<SimAgent, "roles">> & { roles?: readonly string[] } = {}): SimAgent {
    const id = partial.id ?? this.nextAgentId;
    this.nextAgentId = Math.max(this.nextAgentId, id + 1);
    const firstname = partial.firstname ?? "";
    const surname = partial.surname ?? "";
    const team = partial.team ?? this.teams[0]?.name ?? "";
    const agent: SimAgent = {
      id,
      name: partial.name ?? (`${firstname} ${surname}`.trim() || `Agent ${id}`),
      firstname,
      surname,
      email: partial.email ?? `agent${id}@example.com`,
      isdisabled: partial.isdisabled ?? false,
      team,
      teams: partial.teams ?? (team === "" ? [] : [this.membership(team)]),
      roles: (partial.roles ?? ["Agent"]).map((name) => this.roleByName(name)),
      licence_type: partial.licence_type ?? null,
      isapiagent: partial.isapiagent ?? false,
      lastlogindate: partial.lastlogindate ?? null,
      datecreated: partial.datecreated ?? haloDate(this.clock.now()),
    };
    this.agents.set(id, agent);
    return agent;
  }

  /** Records a sign-in now (the only way lastlogindate moves). */
  recordLogin(agentId: number): void {
    const agent = this.agents.get(agentId);
    if (agent) agent.lastlogindate = haloDate(this.clock.now());
  }

  seedTickets(count: number, fields: Partial<Omit<SimTicket, "id">> = {}): SimTicket[] {
    const out: SimTicket[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextTicketId++;
      const ticket: SimTicket = {
        id,
        summary: fields.summary ?? `Ticket ${id}`,
        agent_id: fields.agent_id ?? 0,
        team: fields.team ?? this.teams[0]?.name ?? "",
        status_id: fields.status_id ?? 1,
        dateoccurred: fields.dateoccurred ?? haloDate(this.clock.now()),
      };
      this.tickets.set(id, ticket);
      out.push(ticket);
    }
    return out;
  }

  roleByName(name: string): SimRole {
    const role = this.roles.find((r) => r.name === name);
    if (!role) throw new Error(`simulator: no role named "${name}"`);
    return role;
  }

  private membership(teamName: string): { team_id: number; team_name: string } {
    const team = this.teams.find((t) => t.name.toLowerCase() === teamName.toLowerCase());
    if (!team) throw new SimHttpError(400, `Team '${teamName}' does not exist`);
    return { team_id: team.id, team_name: team.name };
  }

  /** Applies one element of `POST /api/Agent`: create without id, partial update with id. */
  saveAgent(input: AgentWrite): SimAgent {
    if (input.id !== undefined && input.id > 0) {
      const agent = this.agents.get(input.id);
      if (!agent) throw new SimHttpError(404, `Agent ${input.id} not found`);
      const next = this.applyFields({ ...agent, teams: [...agent.teams], roles: [...agent.roles] }, input);
      this.agents.set(agent.id, next);
      return next;
    }
    if (!input.name || input.name.trim() === "") throw new SimHttpError(400, "An agent needs a name");
    const blank: SimAgent = {
      id: this.nextAgentId,
      name: "",
      firstname: "",
      surname: "",
      email: "",
      isdisabled: false,
      team: "",
      teams: [],
      roles: [],
      licence_type: null,
      isapiagent: false,
      lastlogindate: null,
      datecreated: haloDate(this.clock.now()),
    };
    const agent = this.applyFields(blank, input);
    this.nextAgentId++;
    // HaloPSA puts a new agent in its default team when no membership is given.
    if (agent.team !== "" && !agent.teams.some((m) => m.team_name === agent.team)) agent.teams.push(this.membership(agent.team));
    this.agents.set(agent.id, agent);
    return agent;
  }

  /** Validates everything before changing anything, so a 400 leaves the agent as it was. */
  private applyFields(agent: SimAgent, input: AgentWrite): SimAgent {
    const str = (v: string | null | undefined, old: string): string => (v === undefined ? old : (v ?? ""));
    agent.name = str(input.name, agent.name);
    agent.firstname = str(input.firstname, agent.firstname);
    agent.surname = str(input.surname, agent.surname);
    agent.email = str(input.email, agent.email);
    if (input.isdisabled !== undefined && input.isdisabled !== null) agent.isdisabled = input.isdisabled;
    if (input.isapiagent !== undefined && input.isapiagent !== null) agent.isapiagent = input.isapiagent;
    if (input.licence_type !== undefined) agent.licence_type = input.licence_type;
    if (input.teams !== undefined && input.teams !== null) {
      agent.teams = input.teams.map((m) => {
        const team = this.teams.find((t) => t.id === m.team_id || (m.team_id == null && t.name.toLowerCase() === (m.team_name ?? "").toLowerCase()));
        if (!team) throw new SimHttpError(400, `Team ${m.team_id ?? `'${m.team_name ?? ""}'`} does not exist`);
        return { team_id: team.id, team_name: team.name };
      });
    }
    if (input.team !== undefined) agent.team = input.team === null || input.team === "" ? "" : this.membership(input.team).team_name;
    if (input.roles !== undefined && input.roles !== null) {
      agent.roles = input.roles.map((r) => {
        const role = this.roles.find((x) => x.id.toLowerCase() === r.id.toLowerCase());
        if (!role) throw new SimHttpError(400, `Role ${r.id} does not exist`);
        return role;
      });
    }
    return agent;
  }

  /** Applies one element of `POST /api/Tickets`: a create (no id) or an update of the fields sent. */
  saveTicket(input: z.infer<typeof ticketWrite>): SimTicket {
    const existing = input.id !== undefined && input.id > 0 ? this.tickets.get(input.id) : undefined;
    if (input.id !== undefined && input.id > 0 && !existing) throw new SimHttpError(404, `Ticket ${input.id} not found`);
    if (input.agent_id != null && input.agent_id !== 0 && !this.agents.has(input.agent_id)) {
      throw new SimHttpError(400, `Agent ${input.agent_id} does not exist`);
    }
    if (input.tickettype_id != null && !this.ticketTypes.some((t) => t.id === input.tickettype_id)) {
      throw new SimHttpError(400, `Ticket type ${input.tickettype_id} does not exist`);
    }
    if (input.status_id !== undefined) this.statusById(input.status_id);
    const team = input.team == null ? undefined : this.membership(input.team).team_name;
    const ticket = existing ?? this.seedTickets(1, { summary: input.summary ?? "New ticket" })[0]!;
    if (input.agent_id !== undefined) ticket.agent_id = input.agent_id ?? 0;
    if (team !== undefined) ticket.team = team;
    if (input.status_id !== undefined) this.setStatus(ticket, input.status_id);
    if (!existing) {
      // Only a create takes these; a reassignment never touches them.
      for (const key of ["details_html", "tickettype_id", "priority_id", "client_id", "site_id", "third_party_id_string"] as const) {
        const value = input[key];
        if (value != null) Object.assign(ticket, { [key]: value });
      }
    }
    return ticket;
  }

  statusById(id: number): SimStatus {
    const status = this.statuses.find((s) => s.id === id);
    if (!status) throw new SimHttpError(400, `Status ${id} does not exist`);
    return status;
  }

  /** swagger Faults.hasbeenclosed / dateclosed: set on reaching a closed status; a reopen keeps hasbeenclosed. */
  setStatus(ticket: SimTicket, statusId: number): void {
    const status = this.statusById(statusId);
    ticket.status_id = status.id;
    if (status.closed) {
      ticket.hasbeenclosed = true;
      ticket.dateclosed = haloDate(this.clock.now());
    } else ticket.dateclosed = null;
  }

  isOpen(ticket: SimTicket): boolean {
    return !(this.statuses.find((s) => s.id === ticket.status_id)?.closed ?? false);
  }
}

/**
 * The HaloPSA simulator's records. Field names and types follow HaloPSA's own swagger ("HaloPSA API"
 * v2, served with the API documentation at <instance>/apidoc): agents are `Uname`, team memberships
 * `UnameSection`, roles `NHD_Roles` (GUID string ids), teams `SectionDetail`, tickets `Faults`.
 */

/** swagger NHD_Roles: `id` is a string (a GUID), `name` the label shown in HaloPSA. */
export interface SimRole {
  id: string;
  name: string;
}

/** swagger SectionDetail: integer id, name; `inactive` hides a team from pickers. */
export interface SimTeam {
  id: number;
  name: string;
  inactive: boolean;
}

/** swagger UnameSection: an agent's membership of one team. */
export interface SimTeamMembership {
  team_id: number;
  team_name: string;
}

/** swagger Uname (the subset the bridge reads and writes). */
export interface SimAgent {
  id: number;
  name: string;
  firstname: string;
  surname: string;
  email: string;
  /** swagger Uname.isdisabled: the deactivation flag (docs/vendor-facts.md: never delete, disable). */
  isdisabled: boolean;
  /** Default team name (swagger Uname.team is a string). */
  team: string;
  teams: SimTeamMembership[];
  roles: SimRole[];
  /** swagger Uname.licence_type is int32, nullable. */
  licence_type: number | null;
  isapiagent: boolean;
  /** swagger Uname.lastlogindate, date-time, null until the agent first signs in. */
  lastlogindate: string | null;
  datecreated: string;
}

/** swagger Faults (subset). `status_id` 9 is HaloPSA's built-in "Closed" status. */
export interface SimTicket {
  id: number;
  summary: string;
  /** 0 means unassigned. */
  agent_id: number;
  team: string;
  status_id: number;
  dateoccurred: string;
  /** swagger Faults: the fields a ticket made through the API can carry. */
  details_html?: string;
  tickettype_id?: number;
  priority_id?: number;
  client_id?: number;
  site_id?: number;
  third_party_id_string?: string;
  /** swagger Faults.hasbeenclosed and dateclosed: set when a closed status is first reached, kept after a reopen. */
  hasbeenclosed?: boolean;
  dateclosed?: string | null;
}

export const CLOSED_STATUS_ID = 9;

/** swagger TStatus (id, name), plus whether HaloPSA treats it as closed (GET /Status `excludeclosed` leaves those out). */
export interface SimStatus {
  id: number;
  name: string;
  closed: boolean;
}

/** swagger Actions (subset): a note on a ticket, by an agent, maybe setting a status (`new_status`). */
export interface SimAction {
  id: number;
  ticket_id: number;
  outcome: string;
  note: string;
  who_agentid: number;
  new_status: number | null;
  datetime: string;
  hiddenfromuser: boolean;
}

/** swagger TicketType (id, name). */
export interface SimTicketType {
  id: number;
  name: string;
}

/** The error body layouts HaloPSA is seen to answer with (docs/vendor-facts.md; HaloAPI's New-HaloError.ps1 parses each). */
export type ErrorShape = "error" | "Message" | "errorMessage" | "ClassName" | "text" | "empty";

/** An HTTP outcome a handler wants to send as an error; the server renders it in the current ErrorShape. (shared, ../sim/server.ts). */
export { SimHttpError } from "../sim/server.js";

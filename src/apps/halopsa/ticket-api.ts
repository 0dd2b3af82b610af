/**
 * The HaloPSA calls behind tasks as tickets (docs/manual-tasks.md, "Tasks as HaloPSA tickets"):
 * create a ticket, find one again by its tag, read many in pages, add a note that closes one, read
 * a ticket's notes and the instance's statuses. Every call goes through the app's one HaloPSA
 * client, so tickets and agents spend one rate budget. Wire details: HaloPSA API swagger (Halo API
 * v2), schemas Faults, Actions and TStatus, and the paths named on each method.
 */
import { z } from "zod";
import type { HaloPsaClient } from "./client.js";
import { bareOrWrapped, oneOrMany, text, ticketPageOf } from "./wire.js";

const optionalInt = z.number().int().nullish();

/** swagger Faults (the fields a task ticket is read back by). */
export const taskTicketSchema = z.object({
  id: z.number().int(),
  summary: text,
  status_id: optionalInt,
  agent_id: optionalInt,
  agent_name: z.string().nullish(),
  third_party_id_string: z.string().nullish(),
});
export type TaskTicketWire = z.infer<typeof taskTicketSchema>;

const taskTicketPage = ticketPageOf(taskTicketSchema);

/** swagger Actions: `who_agentid` is the agent who did it, `new_status` a status it set. */
export const actionSchema = z.object({
  id: z.number().int(),
  ticket_id: optionalInt,
  note: text,
  who_agentid: optionalInt,
  new_status: optionalInt,
  datetime: z.string().nullish(),
});
export type HaloAction = z.infer<typeof actionSchema>;

/** swagger TStatus. */
export const statusSchema = z.object({ id: z.number().int(), name: text });
export type HaloStatus = z.infer<typeof statusSchema>;
const STATUSES = bareOrWrapped(statusSchema, "statuses");

/** What a task ticket is made of (swagger Faults). */
export interface TaskTicketWrite {
  readonly summary: string;
  readonly details_html: string;
  readonly tickettype_id: number;
  readonly team: string;
  readonly priority_id?: number;
  readonly client_id?: number;
  readonly site_id?: number;
  /** The bridge's tag, so a retry finds the ticket a lost answer made. */
  readonly third_party_id_string: string;
}

/** swagger GET /Tickets `page_size`: "Maximum size: 100". */
const PAGE_SIZE = 100;
const MAX_PAGES = 1000;

export class HaloPsaTicketApi {
  /** `client`: the app's one HaloPSA client, whose rate budget the agent calls spend too. */
  constructor(readonly client: HaloPsaClient) {}

  /**
   * swagger POST /Tickets (array of Faults; no id creates). Not retried after an ambiguous failure
   * (the transport's rule for non-idempotent POSTs): the outbox looks for the tag before trying again.
   */
  async create(ticket: TaskTicketWrite): Promise<TaskTicketWire> {
    const [saved] = await this.client.call("POST", "/api/Tickets", { body: [ticket], schema: oneOrMany(taskTicketSchema), idempotent: false });
    if (!saved) throw new Error("HaloPSA answered a ticket create with no ticket");
    return saved;
  }

  /**
   * The tickets whose summary holds `marker` and that carry `tag`. swagger GET /Tickets has no
   * filter on third_party_id_string; `search_summary` ("Returns tickets based on the summary
   * matching the search") narrows to the few that carry the marker, and the tag decides.
   */
  async findTagged(marker: string, tag: string): Promise<TaskTicketWire[]> {
    const query = { search_summary: marker, pageinate: "true", page_no: "1", page_size: String(PAGE_SIZE) };
    const page = await this.client.call("GET", "/api/Tickets", { query, schema: taskTicketPage });
    return page.tickets.filter((t) => (t.third_party_id_string == null ? t.summary.includes(marker) : t.third_party_id_string === tag));
  }

  /**
   * The tickets with these ids, open or closed, read in pages (swagger GET /Tickets `ticketids`,
   * `pageinate`, `page_no`, `page_size`): one list read per 100 tickets, never one GET per ticket.
   */
  async read(ids: readonly number[]): Promise<TaskTicketWire[]> {
    const out: TaskTicketWire[] = [];
    for (let i = 0; i < ids.length; i += PAGE_SIZE) {
      const ticketids = ids.slice(i, i + PAGE_SIZE).join(",");
      for (let pageNo = 1; pageNo <= MAX_PAGES; pageNo++) {
        const query = { ticketids, pageinate: "true", page_no: String(pageNo), page_size: String(PAGE_SIZE) };
        const page = await this.client.call("GET", "/api/Tickets", { query, schema: taskTicketPage });
        out.push(...page.tickets);
        if (page.tickets.length < PAGE_SIZE || pageNo * PAGE_SIZE >= page.record_count) break;
      }
    }
    return out;
  }

  /** swagger POST /Actions: a note on the ticket; with `newStatus`, `new_status` closes or reopens it in the same action. */
  async addNote(ticketId: number, note: string, newStatus?: number): Promise<void> {
    const action = { ticket_id: ticketId, outcome: "Note", note, hiddenfromuser: true, ...(newStatus === undefined ? {} : { new_status: newStatus }) };
    await this.client.call("POST", "/api/Actions", { body: [action], schema: oneOrMany(actionSchema), idempotent: false });
  }

  /** swagger GET /Actions `ticket_id`: the ticket's actions (HaloAPI Get-HaloAction reads `actions` from the answer). */
  async actions(ticketId: number): Promise<HaloAction[]> {
    return this.client.call("GET", "/api/Actions", { query: { ticket_id: String(ticketId) }, schema: bareOrWrapped(actionSchema, "actions") });
  }

  /**
   * The instance's closed statuses: swagger GET /Status lists them all and, with `excludeclosed`,
   * leaves the closed ones out (HaloAPI Get-HaloStatus: "Exclude the closed status from the
   * response"), so closed = all minus the rest. TStatus has no field documented to say it.
   */
  async closedStatuses(): Promise<HaloStatus[]> {
    const all = await this.client.call("GET", "/api/Status", { schema: STATUSES });
    const open = new Set((await this.openStatuses()).map((s) => s.id));
    return all.filter((s) => !open.has(s.id));
  }

  /** The instance's open statuses, in its order: swagger GET /Status with `excludeclosed`. */
  async openStatuses(): Promise<HaloStatus[]> {
    return this.client.call("GET", "/api/Status", { query: { excludeclosed: "true" }, schema: STATUSES });
  }
}

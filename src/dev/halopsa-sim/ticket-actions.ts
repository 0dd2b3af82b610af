/**
 * The simulator's ticket actions (swagger Actions): notes agents and the API add to tickets, a
 * note that sets `new_status` moving the ticket's status with it, and the test hooks that close or
 * reopen a ticket "as an agent" the way a technician does in HaloPSA (a note with a new status).
 */
import { z } from "zod";
import type { Clock } from "../../clock.js";
import { SimHttpError, type SimAction } from "./model.js";
import { haloDate, type SimState } from "./state.js";

/** One element of `POST /api/Actions` (swagger: array of Actions). Unknown members are ignored, as ASP.NET does. */
export const actionWriteSchema = z.looseObject({
  ticket_id: z.number().int(),
  note: z.string().nullable().optional(),
  outcome: z.string().nullable().optional(),
  new_status: z.number().int().nullable().optional(),
  hiddenfromuser: z.boolean().nullable().optional(),
});
export type ActionWrite = z.infer<typeof actionWriteSchema>;

export class SimActions {
  readonly all: SimAction[] = [];
  private nextId = 1;

  constructor(
    private readonly state: SimState,
    private readonly clock: Clock,
  ) {}

  /** Applies one action; a closed or missing ticket is checked before anything changes. */
  add(input: ActionWrite, whoAgentId: number): SimAction {
    const ticket = this.state.tickets.get(input.ticket_id);
    if (!ticket) throw new SimHttpError(404, `Ticket ${input.ticket_id} not found`);
    if (input.new_status != null) this.state.setStatus(ticket, input.new_status);
    const action: SimAction = {
      id: this.nextId++,
      ticket_id: ticket.id,
      outcome: input.outcome ?? "Note",
      note: input.note ?? "",
      who_agentid: whoAgentId,
      new_status: input.new_status ?? null,
      datetime: haloDate(this.clock.now()),
      hiddenfromuser: input.hiddenfromuser ?? false,
    };
    this.all.push(action);
    return action;
  }

  of(ticketId: number): SimAction[] {
    return this.all.filter((a) => a.ticket_id === ticketId);
  }

  /** Test hook: an agent closes the ticket with a note (status default: Closed). */
  closeAsAgent(ticketId: number, agentId: number, note: string, statusId?: number): SimAction {
    const closed = statusId ?? this.state.statuses.find((s) => s.closed)!.id;
    return this.add({ ticket_id: ticketId, note, outcome: "Close", new_status: closed }, agentId);
  }

  /** Test hook: an agent reopens the ticket (status default: In Progress). */
  reopenAsAgent(ticketId: number, agentId: number, note: string, statusId = 2): SimAction {
    return this.add({ ticket_id: ticketId, note, outcome: "Reopen", new_status: statusId }, agentId);
  }
}

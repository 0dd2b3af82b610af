/**
 * Many users' HaloPSA actions in a handful of calls: one list of every agent (docs/vendor-facts.md: `GET
 * /api/Agent` answers a bare array, no paging), matched locally by the same rules as a single
 * create (NFKC, case-folded email; never another user's agent), then `POST /api/Agent` arrays of
 * at most `batchSize`, and one more list read to confirm the creates by email. HaloPSA documents
 * no order for the answer to a multi-element POST, so no answer is ever read by position. The
 * leavers' open tickets are read in one paged list for all of them and moved in one POST.
 *
 * A create whose POST got no answer, or that the confirming read does not show, fails "effect
 * unknown": the worker marks it unsettled, and the next pass (which reads the list first) adopts
 * it if it landed. That is what keeps a crash between the POST and the confirmation from ever
 * making a second agent.
 */
import { ConnectorError } from "../../domain/connector-error.js";
import type { ApplyResult, BatchItem, BatchOutcome, EventIntent } from "../../domain/connector.js";
import { matchingKey } from "../../domain/folding.js";
import type { Action } from "../../domain/model.js";
import type { Logger } from "../../log.js";
import { refuseOwned } from "../ownership.js";
import type { HaloPsaClient, TicketTarget } from "./client.js";
import type { HaloPsaConnector } from "./connector.js";
import { agentId, pickAgent } from "./mapping.js";
import type { HaloAgent, HaloAgentWrite } from "./wire.js";

type Writing = Extract<Action, { role: string }>;

/** One agent write of the batch and how to turn what HaloPSA then shows into the item's result. */
interface Write {
  readonly index: number;
  readonly fields: HaloAgentWrite;
  readonly finish: (agent: HaloAgent) => ApplyResult;
}

export interface AgentBatchDeps {
  readonly client: HaloPsaClient;
  readonly connector: HaloPsaConnector;
  readonly reassignTicketsTo: TicketTarget | "leave";
  readonly batchSize: number;
  readonly log: Logger;
}

export async function applyAgentBatch(deps: AgentBatchDeps, items: readonly BatchItem[]): Promise<BatchOutcome[]> {
  const { client, connector: c } = deps;
  const outcomes: BatchOutcome[] = items.map(() => ({ ok: false, error: new Error("not carried out") }));
  const fail = (i: number, error: unknown): void => void (outcomes[i] = { ok: false, error });
  const done = (i: number, result: ApplyResult): void => void (outcomes[i] = { ok: true, result });
  const agents = await listAll(client);
  const byKey = groupByEmail(agents);
  const byId = new Map(agents.map((a) => [a.id, a]));
  const updates: Write[] = [];
  const creates: (Write & { readonly key: string })[] = [];
  const leavers: { index: number; id: number; action: Extract<Action, { kind: "deactivate" }> }[] = [];

  for (const [i, { action, ctx }] of items.entries()) {
    try {
      switch (action.kind) {
        case "create": {
          const fields = await c.fullFields(action.role, action.settings, action.profile);
          const key = matchingKey(action.profile.email);
          const existing = pickAgent(byKey.get(key) ?? [], deps.log);
          if (existing) {
            refuseOwned(ctx, "HaloPSA", String(existing.id), `HaloPSA agent ${existing.id} (${existing.email})`);
            const adopted = { action: "halopsa.agent-adopted", detail: { agentId: existing.id, email: action.profile.email, wasDisabled: existing.isdisabled } };
            updates.push({ index: i, fields: { id: existing.id, ...fields, isdisabled: false }, finish: (a) => c.result(a, action, { createdByBridge: false, events: [adopted] }) });
          } else {
            c.refuseWhileUnsettled(ctx);
            creates.push({ index: i, key, fields, finish: (a) => c.result(a, action, { createdByBridge: true }) });
          }
          break;
        }
        case "update": {
          const { fields, events } = await c.updateWrite(action);
          if (fields === null) done(i, c.unchanged(action, events));
          else updates.push({ index: i, fields, finish: (a) => c.result(a, action, { events }) });
          break;
        }
        case "changeRole":
        case "reactivate": {
          const id = agentId(action.externalId);
          if (action.kind === "reactivate" && !byId.has(id)) throw goneError(action.externalId, action.profile.email);
          const fields = { id, ...(await c.fullFields(action.role, action.settings, action.profile)), ...(action.kind === "reactivate" ? { isdisabled: false } : {}) };
          updates.push({ index: i, fields, finish: (a) => c.result(a, action as Writing, {}) });
          break;
        }
        case "deactivate":
          leavers.push({ index: i, id: agentId(action.externalId), action });
          break;
      }
    } catch (e: unknown) {
      fail(i, e);
    }
  }

  const leaverWrites = await moveLeaversTickets(deps, leavers, byId, done, fail);
  await postUpdates(deps, [...updates, ...leaverWrites], done, fail);
  if (creates.length > 0) await postCreates(deps, creates, done, fail);
  return outcomes;
}

async function listAll(client: HaloPsaClient): Promise<HaloAgent[]> {
  return client.listAgents({ includeEnabled: true, includeDisabled: true, includeRoles: false });
}

function groupByEmail(agents: readonly HaloAgent[]): Map<string, HaloAgent[]> {
  const byKey = new Map<string, HaloAgent[]>();
  for (const a of agents) {
    const key = matchingKey(a.email);
    if (key !== "") byKey.set(key, [...(byKey.get(key) ?? []), a]);
  }
  return byKey;
}

function goneError(externalId: string, email: string): ConnectorError {
  return new ConnectorError({
    app: "HaloPSA",
    kind: "gone",
    retryable: false,
    detail: `HaloPSA agent ${externalId} no longer exists (deleted by hand?); the bridge will not make a second agent for ${email}`,
  });
}

/** Updates answer with their ids: each is matched by id, never by its place in the answer. */
async function postUpdates(deps: AgentBatchDeps, writes: readonly Write[], done: (i: number, r: ApplyResult) => void, fail: (i: number, e: unknown) => void): Promise<void> {
  for (const chunk of chunks(writes, deps.batchSize)) {
    try {
      const saved = new Map((await deps.client.postAgents(chunk.map((w) => w.fields))).map((a) => [a.id, a]));
      for (const w of chunk) {
        const agent = saved.get(w.fields.id!);
        if (agent) done(w.index, w.finish(agent));
        else fail(w.index, new ConnectorError({ app: "HaloPSA", kind: "response", status: 200, request: "POST /api/Agent", detail: `the answer does not hold agent ${w.fields.id}`, retryable: true }));
      }
    } catch (e: unknown) {
      for (const w of chunk) fail(w.index, e);
    }
  }
}

/** Creates are confirmed by the next list read, by email: the answer's order is not documented. */
async function postCreates(
  deps: AgentBatchDeps,
  creates: readonly (Write & { readonly key: string })[],
  done: (i: number, r: ApplyResult) => void,
  fail: (i: number, e: unknown) => void,
): Promise<void> {
  const refused = new Map<number, unknown>();
  for (const chunk of chunks(creates, deps.batchSize)) {
    try {
      await deps.client.postAgents(chunk.map((w) => w.fields));
    } catch (e: unknown) {
      for (const w of chunk) refused.set(w.index, e);
    }
  }
  let after: Map<string, HaloAgent[]>;
  try {
    after = groupByEmail(await listAll(deps.client));
  } catch (e: unknown) {
    const unknown = new ConnectorError({ app: "HaloPSA", kind: "network", retryable: true, effectUnknown: true, detail: "agents were sent but the list read that confirms them failed", cause: e });
    for (const w of creates) fail(w.index, unknown);
    return;
  }
  for (const w of creates) {
    const agent = pickAgent(after.get(w.key) ?? [], deps.log);
    if (agent) done(w.index, w.finish(agent));
    else fail(w.index, refused.get(w.index) ?? notConfirmed(w.fields.email ?? ""));
  }
}

function notConfirmed(email: string): ConnectorError {
  return new ConnectorError({ app: "HaloPSA", kind: "response", status: 200, request: "GET /api/Agent", retryable: true, effectUnknown: true, detail: `the agent created for ${email} is not in the list read after the create` });
}

/**
 * swagger GET /Tickets `agent`: "Returns tickets based on Agent ID's in the array": one paged read
 * for every leaver, one POST to move them all; then each leaver's agent write (disable).
 */
async function moveLeaversTickets(
  deps: AgentBatchDeps,
  leavers: readonly { index: number; id: number; action: Extract<Action, { kind: "deactivate" }> }[],
  byId: ReadonlyMap<number, HaloAgent>,
  done: (i: number, r: ApplyResult) => void,
  fail: (i: number, e: unknown) => void,
): Promise<Write[]> {
  const target = deps.reassignTicketsTo;
  const present = leavers.filter((l) => byId.has(l.id));
  for (const l of leavers.filter((l) => !byId.has(l.id))) {
    // Someone deleted the agent by hand: there is nothing left to disable.
    deps.log.warn("HaloPSA agent to deactivate does not exist", { agentId: l.id });
    done(l.index, { externalId: l.action.externalId, state: "removed", role: null, profile: l.action.profile, settings: {}, events: [{ action: "halopsa.agent-missing", detail: { agentId: l.id } }] });
  }
  const ticketsOf = new Map<number, number[]>();
  if (present.length > 0) {
    try {
      if (target !== "leave" && "agentId" in target && present.some((l) => l.id === target.agentId)) {
        throw new ConnectorError({ app: "HaloPSA", kind: "config", retryable: false, detail: `tickets of HaloPSA agent ${target.agentId} cannot be reassigned to that same agent: change reassignTicketsTo` });
      }
      for (const t of await deps.client.listOpenTicketsOf(present.map((l) => l.id))) ticketsOf.set(t.agent_id ?? 0, [...(ticketsOf.get(t.agent_id ?? 0) ?? []), t.id]);
      if (target !== "leave") await deps.client.reassignTickets([...ticketsOf.values()].flat(), target);
    } catch (e: unknown) {
      for (const l of present) fail(l.index, e);
      return [];
    }
  }
  const ticketEvent = (id: number): EventIntent => {
    const open = ticketsOf.get(id)?.length ?? 0;
    return { action: "halopsa.tickets-reassigned", detail: { agentId: id, count: target === "leave" ? 0 : open, to: target, ...(target === "leave" ? { leftOpen: open } : {}) } };
  };
  return present.map((l) => ({
    index: l.index,
    fields: { id: l.id, isdisabled: true },
    finish: (): ApplyResult => ({ externalId: l.action.externalId, state: "disabled", role: null, profile: l.action.profile, settings: {}, events: [ticketEvent(l.id)] }),
  }));
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * The HaloPSA connector: carries provisioning actions out as HaloPSA agent changes.
 *
 * - Never deletes an agent: agents hold ticket and time history (docs/vendor-facts.md), so leaving is
 *   `isdisabled: true`, after their open tickets are moved (HaloPSA does not move them, and they
 *   drop out of every queue).
 * - Never makes a second agent for one email: create looks the email up first and adopts what it
 *   finds, which is also what makes a create safe to repeat after a timeout. A create that got no
 *   answer may land late: until `createSettleMs` has passed, a retry that finds nothing waits
 *   instead of creating again.
 * - Never adopts an agent another user of the bridge holds (../ownership.ts).
 * - Team and role names are turned into HaloPSA ids through a cached catalogue, so a new agent
 *   costs two calls (lookup + create) once the catalogue is warm.
 */
import { ConnectorError } from "../../domain/connector-error.js";
import type { ApplicableAction, ApplyContext, ApplyResult, BatchItem, BatchOutcome, Connector, EventIntent, RemoteAccount } from "../../domain/connector.js";
import type { Action, Profile } from "../../domain/model.js";
import type { Logger } from "../../log.js";
import { refuseOwned } from "../ownership.js";
import { applyAgentBatch } from "./agent-batch.js";
import type { HaloPsaClient, TicketTarget } from "./client.js";
import {
  agentId,
  Catalogue,
  configError,
  changedProfileFields,
  haloRoleNames,
  licenceTypeOf,
  parseSettings,
  pickAgent,
  profileFields,
  remoteAccountOf,
  sameList,
  type HaloSettings,
  type RoleMap,
} from "./mapping.js";
import type { HaloAgent, HaloAgentWrite } from "./wire.js";

export interface HaloPsaConnectorOptions {
  readonly app: string;
  readonly client: HaloPsaClient;
  /** The client `check` uses (no retries, a short timeout); `client` when none is given. */
  readonly checkClient?: HaloPsaClient;
  /** Bridge role → HaloPSA role names. */
  readonly roles: RoleMap;
  /** Where a leaver's open tickets go. */
  readonly reassignTicketsTo: TicketTarget | "leave";
  /** The instance signs agents in with SAML/Azure AD: an email change is flagged in the audit log. */
  readonly ssoEmailMustMatch: boolean;
  readonly log: Logger;
  /** Licence names used in settings → HaloPSA's licence_type numbers (swagger: int32). */
  readonly licenceTypes?: Readonly<Record<string, number>>;
  /** The instance the links are bound to: base URL and tenant, or the built-in simulator. */
  readonly instance: string;
  /** Agents per `POST /api/Agent` in a batch (default 50). */
  readonly batchSize?: number;
  /** How long a create that got no answer may still land (default 120 s). */
  readonly createSettleMs?: number;
  readonly now?: () => number;
}

type Event = EventIntent;

export class HaloPsaConnector implements Connector {
  readonly app: string;
  readonly instance: string;
  private readonly catalogue: Catalogue;

  constructor(private readonly opts: HaloPsaConnectorOptions) {
    this.app = opts.app;
    this.instance = opts.instance;
    this.catalogue = new Catalogue(opts.client);
  }

  /** A token request and the roles list: the smallest read every HaloPSA API application may make. */
  async check(): Promise<void> {
    await (this.opts.checkClient ?? this.opts.client).listRoles();
  }

  async apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    if (!this.opts.ssoEmailMustMatch) return this.dispatch(action, ctx);
    // docs/vendor-facts.md: with SAML/Azure AD SSO the agent email must equal the IdP login exactly, so the
    // agent gets the login (userName) as its email. The identity map keeps the directory profile,
    // so the planner's comparison is unaffected.
    const result = await this.dispatch(withLoginEmail(action), ctx);
    return "profile" in action && action.profile && result.profile ? { ...result, profile: action.profile } : result;
  }

  private async dispatch(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    const log = this.opts.log.child({ app: this.app, action: action.kind, userId: action.userId, requestId: ctx.requestId });
    switch (action.kind) {
      case "create":
        return this.create(action, ctx, log);
      case "update":
        return this.update(action);
      case "changeRole":
        return this.write(action, { id: agentId(action.externalId), ...(await this.fullFields(action.role, action.settings, action.profile)) });
      case "reactivate":
        return this.reactivate(action);
      case "deactivate":
        return this.deactivate(action, log);
    }
  }

  /** A pass over many users: one list read, writes in batches (./agent-batch.ts). */
  async applyMany(items: readonly BatchItem[]): Promise<BatchOutcome[]> {
    const sso = this.opts.ssoEmailMustMatch;
    const deps = { client: this.opts.client, connector: this, reassignTicketsTo: this.opts.reassignTicketsTo, batchSize: this.opts.batchSize ?? 50, log: this.opts.log };
    const outcomes = await applyAgentBatch(deps, sso ? items.map((i) => ({ ...i, action: withLoginEmail(i.action) })) : items);
    if (!sso) return outcomes;
    // As apply(): the identity map keeps the directory profile.
    return outcomes.map((o, i) => {
      const action = items[i]!.action;
      return o.ok && "profile" in action && action.profile && o.result.profile ? { ok: true, result: { ...o.result, profile: action.profile } } : o;
    });
  }

  async readBack(): Promise<RemoteAccount[]> {
    const agents = await this.opts.client.listAgents({ includeEnabled: true, includeDisabled: true, includeRoles: true });
    // The API agent the bridge signs in as is not a person.
    return agents.filter((a) => !a.isapiagent).map((a) => remoteAccountOf(a, this.opts.roles));
  }

  // --- create: adopt an agent with the same email, else make one ---

  private async create(action: Extract<Action, { kind: "create" }>, ctx: ApplyContext, log: Logger): Promise<ApplyResult> {
    // Resolve names first: a bad team or role fails before anything is written.
    const fields = await this.fullFields(action.role, action.settings, action.profile);
    const existing = pickAgent(await this.opts.client.findAgentsByEmail(action.profile.email), log);
    if (existing) {
      refuseOwned(ctx, "HaloPSA", String(existing.id), `HaloPSA agent ${existing.id} (${existing.email})`);
      const [agent] = await this.opts.client.saveAgents([{ id: existing.id, ...fields, isdisabled: false }]);
      log.info("adopted existing HaloPSA agent", { agentId: existing.id, wasDisabled: existing.isdisabled });
      const event = { action: "halopsa.agent-adopted", detail: { agentId: existing.id, email: action.profile.email, wasDisabled: existing.isdisabled } };
      return this.result(agent!, action, { createdByBridge: false, events: [event] });
    }
    this.refuseWhileUnsettled(ctx);
    let created: HaloAgent;
    try {
      [created] = (await this.opts.client.saveAgents([fields])) as [HaloAgent];
    } catch (e: unknown) {
      // No answer, but HaloPSA may have saved it: look before anyone tries again.
      const landed = e instanceof ConnectorError && e.effectUnknown ? await this.findQuietly(action.profile.email, log) : null;
      if (!landed) throw e;
      log.warn("HaloPSA create failed without an answer but the agent exists: using it", { agentId: landed.id, error: e instanceof Error ? e.message : String(e) });
      created = landed;
    }
    log.info("created HaloPSA agent", { agentId: created.id });
    return this.result(created, action, { createdByBridge: true });
  }

  /**
   * An earlier create got no answer (the worker recorded when): HaloPSA may still be carrying it
   * out, and a second create now would make a second agent. Wait until the settle time has passed;
   * the lookup above finds the agent if it landed meanwhile.
   */
  refuseWhileUnsettled(ctx: ApplyContext): void {
    const since = ctx.current?.createUnsettledAt;
    if (!since) return;
    const settleMs = this.opts.createSettleMs ?? 120_000;
    const waitMs = Date.parse(since) + settleMs - (this.opts.now ?? Date.now)();
    if (waitMs <= 0) return;
    throw new ConnectorError({
      app: "HaloPSA",
      kind: "unsettled",
      retryable: true,
      retryAfterMs: waitMs,
      detail: `an earlier create of ${ctx.current?.profile?.email ?? "this agent"} got no answer at ${since} and may still land; not creating again for ${Math.ceil(waitMs / 1000)} s`,
    });
  }

  private async findQuietly(email: string, log: Logger): Promise<HaloAgent | null> {
    try {
      return pickAgent(await this.opts.client.findAgentsByEmail(email), log);
    } catch {
      return null; // the caller rethrows the original error; the next attempt looks up again
    }
  }

  // --- update: only what changed ---

  private async update(action: Extract<Action, { kind: "update" }>): Promise<ApplyResult> {
    const { fields, events } = await this.updateWrite(action);
    if (fields === null) return this.unchanged(action, events);
    return this.write(action, fields, events);
  }

  /** The agent write an update needs (only what changed; null: nothing) and its events. For ./agent-batch.ts too. */
  async updateWrite(action: Extract<Action, { kind: "update" }>): Promise<{ fields: HaloAgentWrite | null; events: Event[] }> {
    const after = parseSettings(action.settings);
    let before: HaloSettings;
    try {
      before = parseSettings(action.previous.settings);
    } catch {
      before = {}; // unreadable old settings: re-send everything the new ones name
    }
    const fields: HaloAgentWrite = {
      ...changedProfileFields(action.previous.profile, action.profile),
      ...(sameList(before.teams, after.teams) ? {} : await this.teamFields(after)),
      ...(String(before.licenceType ?? "") === String(after.licenceType ?? "") ? {} : this.licenceField(after)),
      ...(sameList(before.haloRoles, after.haloRoles) ? {} : await this.roleFields(action.role, after)),
    };
    const events: Event[] = [];
    const oldEmail = action.previous.profile?.email;
    if (this.opts.ssoEmailMustMatch && oldEmail !== undefined && oldEmail !== action.profile.email) {
      // docs/vendor-facts.md: with SAML/Azure AD SSO the agent email must equal the IdP login exactly, or sign-in fails silently.
      events.push({ action: "halopsa.sso-email-changed", detail: { agentId: agentId(action.externalId), oldEmail, newEmail: action.profile.email } });
    }
    return { fields: Object.keys(fields).length === 0 ? null : { id: agentId(action.externalId), ...fields }, events };
  }

  /** An update with nothing to send: the account as it stands. */
  unchanged(action: Extract<Action, { kind: "update" }>, events: Event[]): ApplyResult {
    return { externalId: action.externalId, state: "active", role: action.role, profile: action.profile, settings: action.settings, events };
  }

  // --- reactivate: the same agent, enabled, with everything re-asserted ---

  private async reactivate(action: Extract<Action, { kind: "reactivate" }>): Promise<ApplyResult> {
    const fields = await this.fullFields(action.role, action.settings, action.profile);
    try {
      return await this.write(action, { id: agentId(action.externalId), ...fields, isdisabled: false });
    } catch (e: unknown) {
      if (e instanceof ConnectorError && e.status === 404) {
        throw new ConnectorError({
          app: "HaloPSA",
          kind: "gone",
          retryable: false,
          detail: `HaloPSA agent ${action.externalId} no longer exists (deleted by hand?); the bridge will not make a second agent for ${action.profile.email}`,
          cause: e,
        });
      }
      throw e;
    }
  }

  // --- deactivate: move open tickets, then disable; never DELETE ---

  private async deactivate(action: Extract<Action, { kind: "deactivate" }>, log: Logger): Promise<ApplyResult> {
    const id = agentId(action.externalId);
    const target = this.opts.reassignTicketsTo;
    if (target !== "leave" && "agentId" in target && target.agentId === id) {
      throw configError(`tickets of HaloPSA agent ${id} cannot be reassigned to that same agent: change reassignTicketsTo`);
    }
    const open = await this.opts.client.listOpenTickets(id);
    let count = 0;
    if (target !== "leave" && open.length > 0) count = await this.opts.client.reassignTickets(open.map((t) => t.id), target);
    const events: Event[] = [
      {
        action: "halopsa.tickets-reassigned",
        detail: { agentId: id, count, to: target, ...(target === "leave" ? { leftOpen: open.length } : {}) },
      },
    ];
    if (open.length > 0) log.info("HaloPSA tickets of a leaver", { agentId: id, open: open.length, reassigned: count });
    try {
      await this.opts.client.saveAgents([{ id, isdisabled: true }]);
    } catch (e: unknown) {
      if (!(e instanceof ConnectorError && e.status === 404)) throw e;
      // Someone deleted the agent by hand: there is nothing left to disable.
      log.warn("HaloPSA agent to deactivate does not exist", { agentId: id });
      events.push({ action: "halopsa.agent-missing", detail: { agentId: id } });
      return { externalId: action.externalId, state: "removed", role: null, profile: action.profile, settings: {}, events };
    }
    return { externalId: action.externalId, state: "disabled", role: null, profile: action.profile, settings: {}, events };
  }

  // --- shared ---

  private async write(action: Extract<ApplicableAction, { role: string }>, fields: HaloAgentWrite, events: Event[] = []): Promise<ApplyResult> {
    const [agent] = await this.opts.client.saveAgents([fields]);
    return this.result(agent!, action, { events });
  }

  result(
    agent: HaloAgent,
    action: Extract<ApplicableAction, { role: string }>,
    extra: { createdByBridge?: boolean; events?: Event[] },
  ): ApplyResult {
    return {
      externalId: String(agent.id),
      state: agent.isdisabled ? "disabled" : "active",
      role: action.role,
      profile: action.profile,
      settings: action.settings,
      ...(extra.createdByBridge === undefined ? {} : { createdByBridge: extra.createdByBridge }),
      ...(extra.events && extra.events.length > 0 ? { events: extra.events } : {}),
    };
  }

  /** Every field the bridge owns: profile, roles, teams, licence. */
  async fullFields(role: string, rawSettings: Readonly<Record<string, unknown>>, profile: Parameters<typeof profileFields>[0]): Promise<HaloAgentWrite> {
    const settings = parseSettings(rawSettings);
    const [teams, roles] = await Promise.all([this.teamFields(settings), this.roleFields(role, settings)]);
    return { ...profileFields(profile), ...teams, ...roles, ...this.licenceField(settings) };
  }

  private async teamFields(s: HaloSettings): Promise<Pick<HaloAgentWrite, "team" | "teams">> {
    const names = s.teams ?? [];
    if (names.length === 0) return {};
    const teams = await this.catalogue.teamMemberships(names);
    return { team: teams[0]!.team_name, teams };
  }

  private async roleFields(role: string, s: HaloSettings): Promise<Pick<HaloAgentWrite, "roles">> {
    return { roles: await this.catalogue.roleRefs(haloRoleNames(role, s, this.opts.roles)) };
  }

  /** Without a licence in the settings, HaloPSA's (or the admin's) choice stands: the bridge never clears it. */
  private licenceField(s: HaloSettings): Pick<HaloAgentWrite, "licence_type"> {
    return s.licenceType === undefined ? {} : { licence_type: licenceTypeOf(s.licenceType, this.opts.licenceTypes ?? {}) };
  }
}

/** The IdP login as email, when the login is an address (Entra's UPN, Okta's login usually are). */
function loginProfile(p: Profile): Profile {
  return p.userName.includes("@") ? { ...p, email: p.userName } : p;
}

function withLoginEmail(action: ApplicableAction): ApplicableAction {
  switch (action.kind) {
    case "deactivate":
      return action.profile ? { ...action, profile: loginProfile(action.profile) } : action;
    case "update":
      return {
        ...action,
        profile: loginProfile(action.profile),
        previous: { ...action.previous, profile: action.previous.profile && loginProfile(action.previous.profile) },
      };
    default:
      return { ...action, profile: loginProfile(action.profile) };
  }
}

/**
 * Between the bridge's terms (profile, bridge role, settings) and HaloPSA's (agent fields, role
 * GUIDs, team ids, licence_type). Pure functions plus a small cache of HaloPSA's team and role
 * lists, which change rarely and would otherwise cost two calls per agent.
 */
import { z } from "zod";
import type { RemoteAccount } from "../../domain/connector.js";
import type { Profile, Settings } from "../../domain/model.js";
import type { Logger } from "../../log.js";
import type { HaloPsaClient } from "./client.js";
import { ConnectorError } from "../../domain/connector-error.js";
import type { HaloAgent, HaloAgentWrite, HaloRole, HaloTeam } from "./wire.js";

/** Bridge role → the HaloPSA role names it stands for. */
export type RoleMap = Readonly<Record<string, { readonly haloRoles: readonly string[] }>>;

/**
 * An action's HaloPSA settings (./app-type.ts haloPsaSettingsSchema): a rule may
 * override the role's HaloPSA roles; teams[0] is the default team.
 */
const settingsSchema = z.looseObject({
  haloRoles: z.array(z.string().min(1)).optional(),
  teams: z.array(z.string().min(1)).optional(),
  licenceType: z.union([z.string().min(1), z.number().int()]).optional(),
});
export type HaloSettings = z.infer<typeof settingsSchema>;

export function parseSettings(settings: Settings): HaloSettings {
  const r = settingsSchema.safeParse(settings);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw configError(`HaloPSA settings are invalid: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "unreadable"}`);
  }
  return r.data;
}

const fold = (s: string): string => s.trim().toLowerCase();

/** The HaloPSA role names for a bridge role: the rule's override, else the role's configuration. */
export function haloRoleNames(role: string, settings: HaloSettings, roles: RoleMap): readonly string[] {
  if (settings.haloRoles) return settings.haloRoles;
  const configured = roles[role];
  if (!configured) throw configError(`bridge role "${role}" has no HaloPSA roles configured (known: ${Object.keys(roles).join(", ") || "none"})`);
  return configured.haloRoles;
}

/**
 * swagger Uname.licence_type is an int32. A number (or numeric string) is sent as is; a name such
 * as "named" needs the app's `licenceTypes` map, since HaloPSA's numbering is not published.
 */
export function licenceTypeOf(value: string | number, names: Readonly<Record<string, number>>): number {
  if (typeof value === "number") return value;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const hit = Object.entries(names).find(([k]) => fold(k) === fold(value));
  if (!hit) {
    throw configError(
      `HaloPSA licence type "${value}" is unknown: map it to HaloPSA's licence_type number in the app's licenceTypes (known: ${Object.keys(names).join(", ") || "none"})`,
    );
  }
  return hit[1];
}

/**
 * The agent's name fields, from the profile. The email is written in NFKC form, trimmed: the
 * form `findAgentsByEmail` searches for, so a create that lands after the client gave up is
 * found by the retry's lookup even when the IdP sent full-width or padded characters.
 */
export function profileFields(p: Profile): Pick<Required<HaloAgentWrite>, "name" | "firstname" | "surname" | "email"> {
  const name = p.displayName.trim() || `${p.givenName} ${p.familyName}`.trim() || p.email;
  return { name, firstname: p.givenName, surname: p.familyName, email: p.email.normalize("NFKC").trim() };
}

/** The profile fields that differ from what was last written (all of them when nothing was). */
export function changedProfileFields(previous: Profile | null, next: Profile): Partial<HaloAgentWrite> {
  const after = profileFields(next);
  if (!previous) return after;
  const before = profileFields(previous);
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k as keyof typeof before] !== v));
}

export const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** A list read from HaloPSA once and kept; a failed read is forgotten so the next caller tries again. */
class CachedList<T> {
  private pending: Promise<T[]> | null = null;
  constructor(private readonly read: () => Promise<T[]>) {}

  /** The list, and whether it was read just now. */
  async get(forceFresh: boolean): Promise<{ items: T[]; fresh: boolean }> {
    if (this.pending && !forceFresh) return { items: await this.pending, fresh: false };
    const p = this.read();
    this.pending = p;
    void p.catch(() => {
      if (this.pending === p) this.pending = null;
    });
    return { items: await p, fresh: true };
  }
}

/** Caches `GET /api/Team` and `GET /api/Roles`; a name not found triggers one re-read before it is an error. */
export class Catalogue {
  private readonly teams: CachedList<HaloTeam>;
  private readonly roles: CachedList<HaloRole>;

  constructor(client: HaloPsaClient) {
    this.teams = new CachedList(() => client.listTeams());
    this.roles = new CachedList(() => client.listRoles());
  }

  async teamMemberships(names: readonly string[]): Promise<{ team_id: number; team_name: string }[]> {
    return (await resolveNames(names, "team", this.teams)).map((t) => ({ team_id: t.id, team_name: t.name }));
  }

  async roleRefs(names: readonly string[]): Promise<{ id: string; name: string }[]> {
    return (await resolveNames(names, "role", this.roles)).map((r) => ({ id: r.id, name: r.name }));
  }
}

async function resolveNames<T extends { name: string }>(names: readonly string[], what: string, list: CachedList<T>): Promise<T[]> {
  if (names.length === 0) return [];
  const match = (items: T[]): { hits: T[]; missing: string[] } => {
    const hits: T[] = [];
    const missing: string[] = [];
    for (const n of names) {
      const hit = items.find((x) => fold(x.name) === fold(n));
      if (hit) hits.push(hit);
      else missing.push(n);
    }
    return { hits, missing };
  };
  let current = await list.get(false);
  let result = match(current.items);
  // Someone may have added the team or role in HaloPSA since it was read: look once more.
  if (result.missing.length > 0 && !current.fresh) {
    current = await list.get(true);
    result = match(current.items);
  }
  if (result.missing.length > 0) {
    const known = current.items.map((x) => x.name).join(", ") || "none";
    throw configError(`HaloPSA has no ${what} named ${result.missing.map((m) => `"${m}"`).join(", ")} (HaloPSA ${what}s: ${known})`);
  }
  return result.hits;
}

/** The bridge role whose HaloPSA role names are exactly the agent's, else null. */
export function bridgeRoleOf(agent: HaloAgent, roles: RoleMap): string | null {
  if (agent.roles === null) return null;
  const held = new Set(agent.roles.map((r) => fold(r.name)));
  for (const [bridgeRole, { haloRoles }] of Object.entries(roles)) {
    const wanted = new Set(haloRoles.map(fold));
    if (wanted.size === held.size && [...wanted].every((n) => held.has(n))) return bridgeRole;
  }
  return null;
}

/**
 * HaloPSA dates carry no offset and are UTC ("2024-05-01T09:30:00"); some fields use
 * 1900-01-01 for "never". Either way: an ISO string with Z, or null.
 */
export function isoDate(value: string | null): string | null {
  if (value === null || value.trim() === "") return null;
  const v = value.trim();
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms);
  return d.getUTCFullYear() <= 1901 ? null : d.toISOString();
}

export function remoteAccountOf(agent: HaloAgent, roles: RoleMap): RemoteAccount {
  return {
    externalId: String(agent.id),
    email: agent.email,
    name: agent.name,
    enabled: !agent.isdisabled,
    role: bridgeRoleOf(agent, roles),
    lastLoginAt: isoDate(agent.lastlogindate),
  };
}

/** A setting or mapping HaloPSA cannot take: retrying will not help until the config is fixed. */
export function configError(detail: string, cause?: unknown): ConnectorError {
  return new ConnectorError({ app: "HaloPSA", kind: "config", detail, retryable: false, ...(cause === undefined ? {} : { cause }) });
}

/** The HaloPSA id an identity-map link holds; anything else is a broken link, refused as a configuration error. */
export function agentId(externalId: string): number {
  const id = Number(externalId);
  if (!Number.isInteger(id) || id <= 0) throw configError(`"${externalId}" is not a HaloPSA agent id`);
  return id;
}

/** Several agents with one email (made by hand before the bridge): prefer an enabled one, then the oldest. */
export function pickAgent(agents: readonly HaloAgent[], log: Logger): HaloAgent | null {
  if (agents.length === 0) return null;
  const sorted = [...agents].sort((a, b) => Number(a.isdisabled) - Number(b.isdisabled) || a.id - b.id);
  if (agents.length > 1) log.warn("several HaloPSA agents share an email; using one", { agentIds: sorted.map((a) => a.id), chosen: sorted[0]!.id });
  return sorted[0]!;
}

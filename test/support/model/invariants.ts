/**
 * What must hold once a story has settled, checked against the HaloPSA simulator's agents and the
 * bridge's identity map. "Granted", "live" and "the same person" come from the model
 * (./model.ts), never from the bridge's code. Each violation names its invariant by number.
 *
 * A HaloPSA admin's edit (an agent disabled or deleted by hand) is only undone by the bridge with
 * enforceDrift on; with it off the bridge's job is to say so (a drift item or a dead letter), so a
 * discrepancy on such an agent, surfaced that way, is not held against it (invariants 1 and 5).
 */
import type { SimAgent } from "../../../src/dev/halopsa-simulator.js";
import { foldEmail, ROLE_IN_HALOPSA, type ModelUser, type ProvisioningModel } from "./model.js";
import type { IdentityRow, Observation } from "./world.js";

export const INVARIANTS = {
  1: "every active granted user has exactly one enabled agent with the granted role (one owner per folded address)",
  2: "no agent is linked to two live users in the identity map",
  3: "the bridge never deletes an agent",
  4: "with enforceDrift, no enabled agent exists for a user without a grant",
  5: "the identity map agrees with HaloPSA (linked agents exist; enabled ⇔ row active)",
  6: "no two enabled agents share a folded address, unless the extra one was made by hand and is reported as drift `duplicate`",
} as const;
export type InvariantId = keyof typeof INVARIANTS;

export interface Violation {
  readonly invariant: InvariantId;
  readonly message: string;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

export function checkInvariants(model: ProvisioningModel, scimIds: ReadonlyMap<string, string>, o: Observation): Violation[] {
  const out: Violation[] = [];
  const fail = (invariant: InvariantId, message: string): void => void out.push({ invariant, message });
  const agentById = new Map(o.agents.map((a) => [a.id, a]));
  const users = [...model.users.values()];
  const idOf = (u: ModelUser): string => scimIds.get(u.slot)!;
  const slotOf = new Map(users.map((u) => [idOf(u), u.slot]));
  const name = (userId: string): string => slotOf.get(userId) ?? `deleted user ${userId.slice(0, 8)}`;
  // Rows of users still in the directory are the only live links.
  const liveRows = o.rows.filter((r) => o.directoryIds.has(r.userId));
  const rowOf = new Map(liveRows.map((r) => [r.userId, r]));
  const surfaced = (userId: string, externalId: string | null): boolean =>
    !model.config.enforceDrift &&
    externalId !== null &&
    o.outsideEdits.has(Number(externalId)) &&
    (o.drift.some((d) => d.externalId === externalId || d.userId === userId) || o.deadJobUsers.has(userId));

  const modelIds = new Set(users.map(idOf));
  if (modelIds.size !== o.directoryIds.size || [...modelIds].some((id) => !o.directoryIds.has(id))) {
    throw new Error(`harness: the model's users ${JSON.stringify([...modelIds])} are not the directory's ${JSON.stringify([...o.directoryIds])}`);
  }

  /**
   * A conflict is the right end for a granted user when the address is held by another user who is
   * still in the directory with a link that holds it (a deactivated user keeps their disabled agent,
   * to get it back on reactivation): handing it over would give one person's account to another.
   */
  const refusedForLiveHolder = (row: IdentityRow | undefined): boolean => {
    const holder = row?.conflictWith == null ? undefined : rowOf.get(row.conflictWith);
    return holder !== undefined && holder.state !== "removed";
  };

  /** Why a user's link does not give them an enabled agent with `role`, or null when it does. */
  const linkProblem = (u: ModelUser, row: IdentityRow | undefined, role: keyof typeof ROLE_IN_HALOPSA): string | null => {
    if (!row || row.externalId === null) return `no agent in the identity map (row ${row ? `${row.state}, no id` : "missing"})`;
    if (row.state !== "active") return `identity-map row is ${row.state} (agent ${row.externalId})`;
    const agent = agentById.get(Number(row.externalId));
    if (!agent) return `linked agent ${row.externalId} does not exist`;
    if (agent.isdisabled) return `linked agent ${agent.id} is disabled`;
    const want = ROLE_IN_HALOPSA[role];
    const roles = agent.roles.map((r) => r.name);
    const teams = agent.teams.map((t) => t.team_name);
    if (!sameSet(roles, [...want.haloRoles]) || !sameSet(teams, [...want.teams])) {
      return `agent ${agent.id} has roles ${JSON.stringify(roles)} teams ${JSON.stringify(teams)}, ${role} wants ${JSON.stringify(want.haloRoles)} ${JSON.stringify(want.teams)}`;
    }
    return null;
  };

  // 1. One owner per folded address among granted users; the others end in a conflict, no agent.
  for (const [key, people] of model.grantedByPerson()) {
    const problems = people.map((u) => ({ u, row: rowOf.get(idOf(u)), problem: linkProblem(u, rowOf.get(idOf(u)), model.grantOf(u)!) }));
    // A user refused the address (conflictWith set) keeps its old agent but does not own this one.
    const owners = problems.filter((p) => p.problem === null && p.row?.conflictWith == null);
    if (people.length === 1) {
      const [p] = problems;
      if (p!.problem !== null && !surfaced(idOf(p!.u), p!.row?.externalId ?? null) && !refusedForLiveHolder(p!.row)) fail(1, `${p!.u.slot} (${key}, ${model.grantOf(p!.u)}): ${p!.problem}`);
      continue;
    }
    const who = people.map((u) => u.slot).join(", ");
    const allRefused = owners.length === 0 && problems.every((p) => refusedForLiveHolder(p.row));
    if (owners.length !== 1 && !allRefused && !problems.some((p) => surfaced(idOf(p.u), p.row?.externalId ?? null))) {
      fail(1, `${who} all fold to ${key}: ${owners.length} of them own an enabled agent, want exactly 1 (${problems.map((p) => `${p.u.slot}: ${p.problem ?? "owns " + p.row!.externalId}`).join("; ")})`);
    }
    for (const p of problems) {
      const endedInConflict = p.row?.conflictWith != null;
      if (owners.length === 1 && p !== owners[0] && p.row?.state === "active" && p.row.externalId !== null && !endedInConflict && !surfaced(idOf(p.u), p.row.externalId)) {
        fail(1, `${p.u.slot} shares ${key} with owner ${owners[0]!.u.slot} but its provisioning did not end in a conflict: row active → agent ${p.row.externalId}`);
      }
    }
  }

  // 2. No agent linked to two live users.
  const linkers = new Map<string, string[]>();
  for (const r of liveRows) if (r.externalId !== null) linkers.set(r.externalId, [...(linkers.get(r.externalId) ?? []), r.userId]);
  for (const [externalId, ids] of linkers) {
    if (ids.length > 1) fail(2, `agent ${externalId} is linked to ${ids.map(name).join(" and ")}`);
  }

  // 3. Only a HaloPSA admin (the story's own edits, made in the simulator's state) removes agents.
  if (o.agentDeletes > 0) fail(3, `the bridge sent ${o.agentDeletes} DELETE /api/Agent/{id}`);

  // 4. With enforceDrift, every enabled agent belongs to a granted user.
  const grantedKeys = new Set(model.grantedByPerson().keys());
  if (model.config.enforceDrift) {
    for (const a of o.agents.filter((x) => !x.isdisabled)) {
      const linked = liveRows.filter((r) => r.externalId === String(a.id)).map((r) => users.find((u) => idOf(u) === r.userId)!);
      const ungranted = linked.filter((u) => model.grantOf(u) === null);
      if (ungranted.length > 0) fail(4, `agent ${a.id} (${show(a)}) is enabled but linked to ${ungranted.map((u) => `${u.slot} (${u.active ? "no rule grants it" : "inactive"})`).join(", ")}`);
      else if (!linked.some((u) => model.grantOf(u) !== null) && !grantedKeys.has(foldEmail(a.email))) fail(4, `agent ${a.id} (${show(a)}) is enabled and no granted user has its address`);
    }
  }

  // 5. Every live link points at an agent that exists, enabled exactly when the row is active.
  for (const r of liveRows) {
    if (r.externalId === null || surfaced(r.userId, r.externalId)) continue;
    const agent = agentById.get(Number(r.externalId));
    if (!agent) {
      if (r.state !== "removed") fail(5, `${name(r.userId)}'s row (${r.state}) links agent ${r.externalId}, which does not exist`);
    } else if (!agent.isdisabled !== (r.state === "active")) {
      fail(5, `${name(r.userId)}'s row is ${r.state} but agent ${agent.id} is ${agent.isdisabled ? "disabled" : "enabled"}`);
    }
  }

  // 6. One enabled agent per folded address, bar agents made by hand that drift reports as duplicates.
  const byAddress = new Map<string, SimAgent[]>();
  for (const a of o.agents.filter((x) => !x.isdisabled && x.email.trim() !== "")) {
    const key = foldEmail(a.email);
    byAddress.set(key, [...(byAddress.get(key) ?? []), a]);
  }
  for (const [key, agents] of byAddress) {
    if (agents.length < 2) continue;
    const isReportedDuplicate = (a: SimAgent): boolean => o.seededIds.has(a.id) && o.drift.some((d) => d.kind === "duplicate" && d.externalId === String(a.id));
    if (agents.filter((a) => !isReportedDuplicate(a)).length > 1) {
      const what = agents.map((a) => `${a.id}${o.seededIds.has(a.id) ? " (made by hand)" : ""}`).join(", ");
      fail(6, `enabled agents ${what} share ${key}; none of the extra ones is a hand-made agent reported as drift duplicate`);
    }
  }
  return out;
}

function show(a: SimAgent): string {
  return JSON.stringify(a.email);
}

/**
 * Rules checked against the directory: a rule whose group selector matches no group grants nobody,
 * and that must be said out loud, never meant silently (issue 10: a rule written 'Huntress Admin'
 * for the IdP's 'Huntress Admins' stripped both Account Admins). Pure: the caller reads the groups.
 */
import type { DirectoryGroup } from "../domain/readers.js";
import { matchingKey } from "../domain/folding.js";
import { editDistance } from "../domain/string-distance.js";
import type { GroupSelector, Rule } from "./config-schema.js";
import { selectorMatches } from "./rules.js";

export interface RuleProblem {
  readonly kind: "no-group";
  /** The closest existing group's displayName, when one is close enough to be a likely typo. */
  readonly suggestion: string | null;
  /** "rules[2]: group 'Huntress Admin' matches no group in the directory; did you mean 'Huntress Admins'?" */
  readonly message: string;
}

export interface RuleStatus {
  /** The rule's position in the config's `rules` list. */
  readonly index: number;
  readonly rule: Rule;
  readonly matchedGroups: number;
  readonly problem: RuleProblem | null;
}

/**
 * - `ok`: every rule matches at least one group.
 * - `unmatched`: some rule matches none (each carries its problem).
 * - `no-groups-yet`: the directory holds no group at all, as on a new bridge before the IdP's first
 *   push; every rule matches nothing for that one reason, so it is said once, not per rule.
 */
export type RuleCheckState = "ok" | "unmatched" | "no-groups-yet";

export interface RuleCheck {
  readonly state: RuleCheckState;
  readonly groupsInDirectory: number;
  readonly rules: readonly RuleStatus[];
}

export const NO_GROUPS_YET = "no groups yet: rules will be checked when the IdP pushes groups";

/** `group 'Huntress Admins'`, `group id '…'`, `group externalId '…'`: how a rule names its group. */
export function selectorText(selector: GroupSelector): string {
  if ("id" in selector) return `group id '${selector.id}'`;
  if ("externalId" in selector) return `group externalId '${selector.externalId}'`;
  return `group '${selector.displayName}'`;
}

/** Case, width and spacing folded away, so 'huntress  admins' and 'Huntress Admins' are distance 0. */
const folded = (name: string) => matchingKey(name).replace(/\s+/g, " ");

/**
 * The existing group name closest to `wanted`, or null when none is close enough to be a likely
 * typo: at most one edit per five characters of the longer name, and always one (so 'Huntress
 * Admin' → 'Huntress Admins' and 'HaloPSA Agnets' → 'HaloPSA Agents' are suggested, but neither
 * 'Huntress Admins' → 'Huntress Users', five edits apart, nor 'Ops' → 'Dev'). Ties go to the group
 * the IdP pushed first.
 */
export function closestGroupName(wanted: string, names: readonly string[]): string | null {
  const target = folded(wanted);
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const candidate = folded(name);
    const limit = Math.max(1, Math.floor(Math.max(target.length, candidate.length) / 5));
    // Cheap bound first: the length difference alone is a lower bound on the distance.
    if (Math.abs(target.length - candidate.length) > Math.min(limit, best?.distance ?? limit)) continue;
    const distance = editDistance(target, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name ?? null;
}

function problemOf(index: number, selector: GroupSelector, groups: readonly DirectoryGroup[]): RuleProblem {
  // Only a displayName is typed by a person; ids and externalIds are copied, and a near miss there is no hint.
  const suggestion = "displayName" in selector ? closestGroupName(selector.displayName, groups.map((g) => g.displayName)) : null;
  const hint = suggestion === null ? "" : `; did you mean '${suggestion}'?`;
  return { kind: "no-group", suggestion, message: `rules[${index}]: ${selectorText(selector)} matches no group in the directory${hint}` };
}

export function checkRulesAgainstDirectory(rules: readonly Rule[], groups: readonly DirectoryGroup[]): RuleCheck {
  const statuses = rules.map((rule, index): RuleStatus => {
    const matchedGroups = groups.filter((g) => selectorMatches(rule.group, g)).length;
    const problem = matchedGroups === 0 && groups.length > 0 ? problemOf(index, rule.group, groups) : null;
    return { index, rule, matchedGroups, problem };
  });
  const state: RuleCheckState = groups.length === 0 && rules.length > 0 ? "no-groups-yet" : statuses.some((s) => s.problem) ? "unmatched" : "ok";
  return { state, groupsInDirectory: groups.length, rules: statuses };
}

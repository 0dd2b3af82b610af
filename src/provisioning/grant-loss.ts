/**
 * Why a removal or downgrade task exists, in words, for its first line: which grant went, what
 * took it (the rule and its group, the user's state in the directory), and since when and through
 * which change (a SCIM request, or the rules changed at start). A person about to take an admin's
 * access away sees at a glance whether it is a real leaver or a mistake in a rule
 * (docs/manual-tasks.md, "Why a removal"). Pure.
 */
import type { RemovalReason } from "../domain/model.js";
import type { TaskAction } from "../domain/task.js";
import { roleLabel } from "../apps/manual/templates.js";
import type { TaskAppConfig } from "../apps/app-types.js";
import type { GroupSelector, Rule } from "./config-schema.js";

/** The request id the start-up re-plan after a change of apps or rules carries (rules-change.ts). */
const RULES_CHANGED = "startup:rules-changed";

export interface GrantLoss {
  readonly app: TaskAppConfig;
  readonly rules: readonly Rule[];
  readonly name: string;
  readonly action: TaskAction;
  /** The role the task gives (a change of role), else null. */
  readonly role: string | null;
  /** The role the user holds now. */
  readonly previousRole: string | null;
  /** Why access goes, for a task that takes it all away. */
  readonly removal: RemovalReason | undefined;
  readonly requestId: string | null;
  readonly at: Date;
}

const REVOKES: readonly TaskAction[] = ["remove", "disable", "delete"];

/** "Why: …" for a removal or a downgrade; undefined for any other task. */
export function whyLost(l: GrantLoss): string | undefined {
  const label = (role: string | null) => roleLabel(l.app.template, role);
  const since = `since ${l.at.toISOString().slice(0, 16).replace("T", " ")} UTC (${l.requestId === RULES_CHANGED ? "the rules changed at start" : l.requestId === null ? "a re-plan" : `request ${l.requestId}`})`;
  if (REVOKES.includes(l.action)) {
    if (l.removal === "inactive") return `Why: ${l.name} was deactivated in the directory, ${since}.`;
    if (l.removal === "deleted") return `Why: ${l.name} was deleted from the directory, ${since}.`;
    return `Why: no rule grants ${l.name} ${l.app.template.label} any more${l.previousRole === null ? "" : `: ${notIn(l, l.previousRole)}`}, ${since}.`;
  }
  if (l.action === "changeRole" && isDowngrade(l)) {
    return `Why: no rule grants ${l.name} ${label(l.previousRole)} any more: ${notIn(l, l.previousRole!)}; the rules now grant ${label(l.role)}, ${since}.`;
  }
  return undefined;
}

/** "not in 'Huntress Admins', the group the rule for Account Admin names", or that no rule names it. */
function notIn(l: GrantLoss, role: string): string {
  const groups = l.rules.filter((r) => r.app === l.app.name && r.role === role).map((r) => selector(r.group));
  const label = roleLabel(l.app.template, role);
  if (groups.length === 0) return `no rule for ${label} is configured`;
  if (groups.length === 1) return `not in ${groups[0]!}, the group the rule for ${label} names`;
  return `not in any of ${groups.join(", ")}, the groups the rules for ${label} name`;
}

function selector(g: GroupSelector): string {
  if ("id" in g) return `the group with id ${g.id}`;
  if ("externalId" in g) return `the group with externalId ${g.externalId}`;
  return `'${g.displayName}'`;
}

/** A change to a role that ranks lower (the app's roles are listed strongest first, as rules.ts ranks them). */
function isDowngrade(l: GrantLoss): boolean {
  const rank = (role: string | null) => l.app.roles.findIndex((r) => r.name === role);
  return l.previousRole !== null && l.role !== null && rank(l.role) > rank(l.previousRole);
}

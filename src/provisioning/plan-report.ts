/**
 * `scim-bridge plan`: what the worker would do for everyone (or one user), as lines for a person.
 */
import { describeAction } from "./plan.js";
import { explain } from "./rules.js";
import type { UserPlan } from "./sync-user.js";

export function formatPlanReport(plans: readonly UserPlan[]): string[] {
  const lines: string[] = [];
  const kinds = new Map<string, number>();
  let upToDate = 0;
  for (const p of plans) {
    if (p.actions.length === 0) {
      upToDate++;
      continue;
    }
    lines.push(`${p.userName ?? "(deleted user)"} [${p.userId}]`);
    for (const a of p.actions) {
      kinds.set(a.kind, (kinds.get(a.kind) ?? 0) + 1);
      const wanted = p.wanted.find((w) => w.app === a.app);
      lines.push(`  ${describeAction(a)}${wanted ? ` — ${explain(wanted)}` : ""}`);
    }
  }
  const total = [...kinds.values()].reduce((n, k) => n + k, 0);
  const byKind = [...kinds].map(([k, n]) => `${k} ${n}`).join(", ");
  lines.push(
    total === 0
      ? `Nothing to do: ${upToDate} user(s) up to date.`
      : `${total} action(s) for ${plans.length - upToDate} user(s) (${byKind}); ${upToDate} user(s) up to date. Nothing was changed.`,
  );
  return lines;
}

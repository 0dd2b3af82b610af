/**
 * The rules in force, each checked against the directory (provisioning/rule-check.ts): how many
 * groups it matches, and the problem when it matches none, with the closest group name. Computed
 * on each request from one query over the groups table, so it is never staler than the directory.
 */
import type { RuleCheck } from "../provisioning/rule-check.js";
import { NO_GROUPS_YET } from "../provisioning/rule-check.js";
import { noQuery, parseQuery } from "./input.js";
import { ADMIN_ONLY, type Routes } from "./routes.js";

export interface RulesApiOptions {
  readonly ruleWatch: { check(): RuleCheck };
}

export function rulesRoutes(routes: Routes, o: RulesApiOptions): void {
  routes.get("/rules", ADMIN_ONLY, (req, res) => {
    parseQuery(noQuery, req);
    const check = o.ruleWatch.check();
    const unmatched = check.rules.filter((s) => s.problem).length;
    res.json({
      state: check.state,
      summary:
        check.state === "no-groups-yet"
          ? NO_GROUPS_YET
          : check.state === "ok"
            ? "every rule matches a group in the directory"
            : `${unmatched} rule(s) match no group in the directory: nobody gets access through them`,
      groupsInDirectory: check.groupsInDirectory,
      rules: check.rules.map((s) => ({
        index: s.index,
        group: s.rule.group,
        app: s.rule.app,
        role: s.rule.role,
        matchedGroups: s.matchedGroups,
        problem: s.problem,
      })),
    });
  });
}

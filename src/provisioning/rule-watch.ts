/**
 * Keeps the rule check (rule-check.ts) in view: checked at start and again whenever the IdP creates,
 * renames, replaces or deletes a group, and logged once per change of the result, not per request:
 * a rule that becomes unmatched is one warning, one that matches again is one line of information.
 */
import type { GroupCatalog } from "../domain/readers.js";
import type { Logger } from "../log.js";
import type { Rule } from "./config-schema.js";
import { checkRulesAgainstDirectory, NO_GROUPS_YET, selectorText, type RuleCheck } from "./rule-check.js";

export class RuleWatch {
  /** What was last logged: the state and each unmatched rule's message by rule index. */
  private logged: { state: RuleCheck["state"]; problems: Map<number, string> } | undefined;

  constructor(private readonly o: { rules: readonly Rule[]; groups: GroupCatalog; log: Logger }) {}

  /** The check as the directory stands now (one query over the groups table). */
  check(): RuleCheck {
    return checkRulesAgainstDirectory(this.o.rules, this.o.groups.allGroups());
  }

  /** Checks and logs what changed since the last log; at start, everything found. */
  recheck(): RuleCheck {
    const result = this.check();
    const { log } = this.o;
    const first = this.logged === undefined;
    const before = this.logged ?? { state: undefined, problems: new Map<number, string>() };
    const problems = new Map(result.rules.flatMap((s) => (s.problem ? [[s.index, s.problem.message] as const] : [])));
    if (result.state === "no-groups-yet") {
      if (before.state !== "no-groups-yet") log.info(`rules: ${NO_GROUPS_YET}`, { rules: this.o.rules.length });
    } else {
      for (const s of result.rules) {
        if (!s.problem || before.problems.get(s.index) === s.problem.message) continue;
        log.warn(`${s.problem.message} (nobody gets ${s.rule.app} ${s.rule.role} through this rule until it does)`, {
          rule: s.index,
          group: s.rule.group,
          suggestion: s.problem.suggestion,
        });
      }
      for (const s of result.rules) {
        if (s.problem || !before.problems.has(s.index)) continue;
        log.info(`rules[${s.index}]: ${selectorText(s.rule.group)} matches a group in the directory again`, { rule: s.index, matchedGroups: s.matchedGroups });
      }
      if (first && result.state === "ok" && result.rules.length > 0) log.info("rules: every rule matches a group in the directory", { groups: result.groupsInDirectory });
    }
    this.logged = { state: result.state, problems };
    return result;
  }

  /**
   * After a SCIM group change has committed: the IdP's request must not fail because the check
   * could not run, so a failure is logged (with its cause) and the next change checks again.
   */
  groupsChanged(): void {
    try {
      this.recheck();
    } catch (e: unknown) {
      this.o.log.error("rules could not be checked against the directory after a group change", { error: e });
    }
  }
}

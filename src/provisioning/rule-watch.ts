/**
 * Keeps the rule check (rule-check.ts) in view: checked at start and again whenever the IdP creates,
 * renames, replaces or deletes a group, and logged once per change of the result, not per request:
 * a rule that becomes unmatched is one warning, one that matches again is one line of information.
 *
 * After a group change the check waits for the IdP to go quiet (`settleMs` without another group
 * change): Okta and Entra push a new directory one group per request, and a rule whose group is
 * simply next in line is no mistake worth a warning. The admin API and the web page check live.
 */
import type { GroupCatalog } from "../domain/readers.js";
import type { Logger } from "../log.js";
import type { Rule } from "./config-schema.js";
import { checkRulesAgainstDirectory, NO_GROUPS_YET, selectorText, type RuleCheck } from "./rule-check.js";

export class RuleWatch {
  /** What was last logged: the state and each unmatched rule's message by rule index. */
  private logged: { state: RuleCheck["state"]; problems: Map<number, string> } | undefined;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly o: { rules: readonly Rule[]; groups: GroupCatalog; log: Logger; settleMs?: number }) {}

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

  /** After a SCIM group change has committed: re-checks once the IdP has been quiet for `settleMs`. */
  groupsChanged(): void {
    clearTimeout(this.pending);
    const settleMs = this.o.settleMs ?? 0;
    if (settleMs === 0) return this.recheckLogged();
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.recheckLogged();
    }, settleMs);
    // A pending check never keeps the process alive; stop() cancels it before the database closes.
    this.pending.unref();
  }

  /** Cancels a pending check (at shutdown, before the database closes). */
  stop(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
  }

  /** The IdP's request must not fail because the check could not run: log the failure with its cause; the next change checks again. */
  private recheckLogged(): void {
    try {
      this.recheck();
    } catch (e: unknown) {
      this.o.log.error("rules could not be checked against the directory after a group change", { error: e });
    }
  }
}

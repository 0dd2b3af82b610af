/**
 * The warning an admin sees at the top of the home page while a rule matches no group in the
 * directory (provisioning/rule-check.ts): nobody gets access through such a rule, so it is shown,
 * never left to mean "nobody" silently. Each unmatched rule is listed with the closest group name.
 */
import type { AppConfig } from "../../../apps/app-types.js";
import type { RuleCheck, RuleStatus } from "../../../provisioning/rule-check.js";
import { NO_GROUPS_YET, selectorText } from "../../../provisioning/rule-check.js";
import { appLabel, roleLabel } from "../app-labels.js";
import { html, type SafeHtml } from "../html.js";

function unmatchedRule(s: RuleStatus & { problem: NonNullable<RuleStatus["problem"]> }, apps: readonly AppConfig[]): SafeHtml {
  const suggestion = s.problem.suggestion;
  return html`<li><strong>rules[${s.index}]</strong>: ${selectorText(s.rule.group)} → ${appLabel(apps, s.rule.app)} ${roleLabel(apps, s.rule.app, s.rule.role)} matches no group in the directory.${
    suggestion !== null && html` Did you mean <strong>${suggestion}</strong>?`
  }</li>`;
}

export function ruleWarnings(check: RuleCheck | undefined, apps: readonly AppConfig[]): SafeHtml {
  if (!check || check.state === "ok") return html``;
  if (check.state === "no-groups-yet") {
    const text = NO_GROUPS_YET.charAt(0).toUpperCase() + NO_GROUPS_YET.slice(1);
    return html`<div class="notice info" id="rule-check"><p>${text}.</p></div>`;
  }
  const unmatched = check.rules.flatMap((s) => (s.problem ? [{ ...s, problem: s.problem }] : []));
  return html`<section class="notice warning" id="rule-check" aria-labelledby="rule-check-heading">
  <h2 id="rule-check-heading">${unmatched.length === 1 ? "A rule matches no group" : `${unmatched.length} rules match no group`}</h2>
  <p>Nobody gets access through ${unmatched.length === 1 ? "this rule" : "these rules"} until ${unmatched.length === 1 ? "its group exists" : "their groups exist"} in the directory. Correct the group in the configuration file and restart the bridge, or push the group from the IdP.</p>
  <ul>
    ${unmatched.map((s) => unmatchedRule(s, apps))}
  </ul>
</section>`;
}

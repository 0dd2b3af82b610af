/**
 * Rules turn the directory into wanted access: for each app, the role a user should hold and why.
 * Pure functions of (user, groups, config).
 */
import type { DirectoryGroup, DirectoryUser } from "../domain/readers.js";
import { fold } from "../domain/folding.js";
import { isObject } from "../domain/json.js";
import type { AppConfig, GroupSelector, Rule } from "./config-schema.js";
import type { GrantReason, Profile, Settings, WantedAccess } from "../domain/model.js";


function text(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/** The email an app should use: primary, else work, else the first, else a userName that looks like one. */
function emailOf(user: DirectoryUser): string {
  const emails = Array.isArray(user.attributes["emails"]) ? user.attributes["emails"].filter(isObject) : [];
  const pick = emails.find((e) => e["primary"] === true) ?? emails.find((e) => e["type"] === "work") ?? emails[0];
  return text(pick?.["value"]) ?? user.userName;
}

export function profileOf(user: DirectoryUser): Profile {
  const name = isObject(user.attributes["name"]) ? user.attributes["name"] : {};
  const givenName = text(name["givenName"]) ?? "";
  const familyName = text(name["familyName"]) ?? "";
  const displayName =
    text(user.attributes["displayName"]) ?? text(name["formatted"]) ?? (`${givenName} ${familyName}`.trim() || user.userName);
  return { userName: user.userName, email: emailOf(user), givenName, familyName, displayName };
}

/** Whether a rule's group selector names this group; also what the rule check (rule-check.ts) counts. */
export function selectorMatches(selector: GroupSelector, group: DirectoryGroup): boolean {
  if ("id" in selector) return group.id === selector.id;
  if ("externalId" in selector) return group.externalId === selector.externalId;
  // displayName is caseExact=false (RFC 7643 §4.2), as the IdP's own lookups treat it.
  return fold(group.displayName) === fold(selector.displayName);
}

function describeSelector(selector: GroupSelector, group: DirectoryGroup): string {
  return "id" in selector || "externalId" in selector ? `${group.displayName} (${"id" in selector ? "id" : "externalId"} match)` : group.displayName;
}

function withoutUndefined(o: Record<string, unknown>): Settings {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * Wanted access per app. A user gets an app only while active and granted by at least one rule;
 * when several rules grant the same app, the role declared first in the app's `roles` wins, and
 * the winning rule's settings override that role's defaults.
 */
export function wantedAccess(
  user: DirectoryUser,
  groups: readonly DirectoryGroup[],
  apps: readonly AppConfig[],
  rules: readonly Rule[],
): WantedAccess[] {
  if (!user.active) return [];
  const profile = profileOf(user);
  const out: WantedAccess[] = [];
  for (const app of apps) {
    const rank = (role: string) => app.roles.findIndex((r) => r.name === role);
    const grants: { reason: GrantReason; rule: Rule }[] = [];
    rules.forEach((rule, i) => {
      if (rule.app !== app.name) return;
      for (const g of groups) {
        if (selectorMatches(rule.group, g)) grants.push({ reason: { rule: i, group: describeSelector(rule.group, g), role: rule.role }, rule });
      }
    });
    if (grants.length === 0) continue;
    // Stable sort: by role precedence, then rule order.
    grants.sort((a, b) => rank(a.rule.role) - rank(b.rule.role) || a.reason.rule - b.reason.rule);
    const winner = grants[0]!;
    const { name: _name, ...roleDefaults } = app.roles[rank(winner.rule.role)]!;
    out.push({
      app: app.name,
      role: winner.rule.role,
      settings: withoutUndefined({ ...roleDefaults, ...winner.rule.settings }),
      profile,
      reasons: grants.map((g) => g.reason),
    });
  }
  return out;
}

/** "admin because member of 'HaloPSA Admins' (rules[0])"; also names the lesser grants. */
export function explain(w: WantedAccess): string {
  const [first, ...rest] = w.reasons;
  if (!first) return w.role;
  const more = rest.length ? `; also ${rest.map((r) => `${r.role} via '${r.group}' (rules[${r.rule}])`).join(", ")}` : "";
  return `${w.role} because member of '${first.group}' (rules[${first.rule}])${more}`;
}

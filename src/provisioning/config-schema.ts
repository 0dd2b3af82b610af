/**
 * The provisioning part of the configuration: apps, their roles, and the rules that grant them.
 * Validated once at start with the rest of the config (config.ts); a rule naming an unknown app or
 * role stops start-up with a message naming the rule.
 */
import { z } from "zod";
import { builtInTemplates, templateSchema } from "../apps/manual/templates.js";

const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "must be lower-case letters, digits and dashes");

/** HaloPSA settings a role or a rule can carry: HaloPSA role names, team names (first = default team), licence. */
export const haloPsaSettingsSchema = z
  .object({
    haloRoles: z.array(z.string().min(1)).optional(),
    teams: z.array(z.string().min(1)).optional(),
    licenceType: z.string().min(1).optional(),
  })
  .strict();

export type HaloPsaSettings = z.infer<typeof haloPsaSettingsSchema>;

const haloPsaRole = haloPsaSettingsSchema.extend({ name });

const haloPsaApp = z
  .object({
    name,
    type: z.literal("halopsa"),
    /** dry-run records planned actions in the audit log instead of calling the app. */
    mode: z.enum(["live", "dry-run"]).default("live"),
    /** Ordered by precedence: an earlier role beats a later one when several rules match. */
    roles: z.array(haloPsaRole).min(1),
    /** Open tickets of a deactivated agent: HaloPSA does not reassign them and they drop out of queues. */
    reassignTicketsTo: z
      .union([z.object({ agentId: z.number().int().positive() }).strict(), z.object({ team: z.string().min(1) }).strict(), z.literal("leave")])
      .default("leave"),
    /** The instance signs agents in with SAML/Azure AD: an email change must be flagged (SSO breaks silently). */
    ssoEmailMustMatch: z.boolean().default(false),
    /** Drift is always reported; with this on, agents no rule grants are deactivated by the reconciler. */
    enforceDrift: z.boolean().default(false),
    /** Seats report: agents not logged in for this many days are listed as unused. */
    staleLoginDays: z.number().int().positive().default(30),
  })
  .strict();

/**
 * An app without an API: planned actions become manual tasks written from a template (built in:
 * huntress, invite-portal; or a template declared inline). `mode: api` uses the Huntress
 * memberships API where the account allows it and falls back to a task when it does not.
 */
const manualApp = z
  .object({
    name,
    type: z.literal("manual"),
    template: z.union([z.enum(Object.keys(builtInTemplates) as [string, ...string[]]), templateSchema]),
    mode: z.enum(["live", "dry-run", "api"]).default("live"),
    /** Precedence order of the template's roles (earlier beats later); default: the template's order. */
    roles: z.array(z.object({ name }).strict()).min(1).optional(),
    portalUrl: z.string().min(1).optional(),
    /** Tasks are due this many hours after they are raised; later ones are flagged overdue. */
    slaHours: z.number().positive().default(24),
  })
  .strict()
  .transform((app, ctx) => {
    const template = typeof app.template === "string" ? builtInTemplates[app.template]! : app.template;
    const roles = app.roles ?? template.roles.map((r) => ({ name: r.name }));
    for (const [i, r] of roles.entries()) {
      if (!template.roles.some((t) => t.name === r.name)) {
        ctx.addIssue({ code: "custom", path: ["roles", i, "name"], message: `"${r.name}" is not a role of the template (roles: ${template.roles.map((t) => t.name).join(", ")})` });
      }
    }
    if (app.mode === "api" && app.template !== "huntress") {
      ctx.addIssue({ code: "custom", path: ["mode"], message: 'mode "api" is only available with the huntress template' });
    }
    return { ...app, template: { ...template, portalUrl: app.portalUrl ?? template.portalUrl ?? "the portal" }, roles, enforceDrift: false };
  });

export type ManualAppConfig = z.output<typeof manualApp>;

export const appSchema = z.union([haloPsaApp, manualApp]);
export type AppConfig = z.output<typeof appSchema>;
export type HaloPsaAppConfig = Extract<AppConfig, { type: "halopsa" }>;

/** Which IdP group a rule matches: by displayName (a plain string), id or externalId. */
const groupSelector = z.union([
  z.string().min(1).transform((displayName) => ({ displayName })),
  z.object({ displayName: z.string().min(1) }).strict(),
  z.object({ id: z.string().min(1) }).strict(),
  z.object({ externalId: z.string().min(1) }).strict(),
]);
export type GroupSelector = { displayName: string } | { id: string } | { externalId: string };

export const ruleSchema = z
  .object({
    group: groupSelector,
    app: name,
    role: name,
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type Rule = z.infer<typeof ruleSchema>;

export const provisioningSchema = z
  .object({
    workerConcurrency: z.number().int().min(1).max(32).default(4),
    maxAttempts: z.number().int().min(1).max(100).default(8),
    backoffBaseSeconds: z.number().positive().default(5),
    maxBackoffSeconds: z.number().positive().default(3600),
    leaseSeconds: z.number().int().min(5).default(120),
    reconcileIntervalMinutes: z.number().min(0).default(15),
  })
  .strict();
export type ProvisioningConfig = z.infer<typeof provisioningSchema>;

/** The embedded default: one HaloPSA app and two rules, so a newcomer sees agents appear at once. */
export const defaultApps: AppConfig[] = [
  {
    name: "halopsa",
    type: "halopsa",
    mode: "live",
    roles: [
      { name: "admin", haloRoles: ["Administrator"], teams: ["2nd Line"] },
      { name: "agent", haloRoles: ["Agent"], teams: ["1st Line"] },
    ],
    reassignTicketsTo: { team: "Triage" },
    ssoEmailMustMatch: false,
    enforceDrift: false,
    staleLoginDays: 30,
  },
];

export const defaultRules: Rule[] = [
  { group: { displayName: "HaloPSA Admins" }, app: "halopsa", role: "admin", settings: {} },
  { group: { displayName: "HaloPSA Agents" }, app: "halopsa", role: "agent", settings: {} },
];

/**
 * Cross-checks rules against apps: the app and role must exist and the settings must fit the app
 * type. Adds issues at `rules[i]...` so the error names the rule.
 */
export function checkRules(apps: readonly AppConfig[], rules: readonly Rule[], ctx: z.RefinementCtx): void {
  const appNames = new Set<string>();
  apps.forEach((app, i) => {
    if (appNames.has(app.name)) ctx.addIssue({ code: "custom", path: ["apps", i, "name"], message: `app "${app.name}" is declared twice` });
    appNames.add(app.name);
    const roles = new Set<string>();
    app.roles.forEach((r, j) => {
      if (roles.has(r.name)) ctx.addIssue({ code: "custom", path: ["apps", i, "roles", j, "name"], message: `role "${r.name}" is declared twice` });
      roles.add(r.name);
    });
  });
  rules.forEach((rule, i) => {
    const app = apps.find((a) => a.name === rule.app);
    if (!app) {
      ctx.addIssue({ code: "custom", path: ["rules", i, "app"], message: `no app named "${rule.app}" (apps: ${apps.map((a) => a.name).join(", ") || "none"})` });
      return;
    }
    if (!app.roles.some((r) => r.name === rule.role)) {
      ctx.addIssue({
        code: "custom",
        path: ["rules", i, "role"],
        message: `"${rule.role}" is not a role of app "${app.name}" (roles: ${app.roles.map((r) => r.name).join(", ")})`,
      });
    }
    const settings = (app.type === "halopsa" ? haloPsaSettingsSchema : z.object({}).strict()).safeParse(rule.settings);
    if (!settings.success) {
      for (const issue of settings.error.issues) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "settings", ...issue.path.map(String)], message: issue.message });
      }
    }
  });
}

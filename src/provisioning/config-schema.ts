/**
 * The provisioning part of the configuration: apps, their roles, and the rules that grant them.
 * Validated once at start with the rest of the config (config.ts); a rule naming an unknown app or
 * role stops start-up with a message naming the rule.
 */
import { z } from "zod";
import { nameSchema as name } from "../apps/app-type.js";
import { appTypeOf, type AppConfig } from "../apps/app-types.js";

/** The app entry schema and config type are the app-type list's; re-exported where the rest of the config lives. */
export { appSchema, type AppConfig } from "../apps/app-types.js";

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
    /**
     * Passes over many users (docs/provisioning.md, "HaloPSA"): when at least `minJobs` are ready
     * at once, up to `maxJobs` run as one batch, so HaloPSA is read once and written in arrays.
     * The worker gathers while jobs keep arriving, until none came for `quietMs`, never more than
     * `maxWaitMs`. `maxJobs: 0` turns batching off.
     */
    batch: z
      .object({
        minJobs: z.number().int().min(2).default(4),
        maxJobs: z.number().int().min(0).default(250),
        quietMs: z.number().int().min(0).max(1000).default(200),
        maxWaitMs: z.number().int().min(0).max(1000).default(1000),
      })
      .strict()
      .default({ minJobs: 4, maxJobs: 250, quietMs: 200, maxWaitMs: 1000 }),
    /** A change of apps or rules that would deactivate, remove or downgrade anyone waits for an admin. */
    approveRuleChanges: z.boolean().default(true),
    /**
     * Circuit breaker against a bad day in the IdP: past `count` deprovisions in one app within
     * `windowMinutes`, the rest wait for an admin. `count: 0` turns it off.
     */
    deprovisionLimit: z
      .object({ count: z.number().int().min(0).default(10), windowMinutes: z.number().positive().default(60) })
      .strict()
      .default({ count: 10, windowMinutes: 60 }),
  })
  .strict();
export type ProvisioningConfig = z.infer<typeof provisioningSchema>;

/** The embedded default: one HaloPSA app and two rules, so a newcomer sees agents appear at once. */
export const defaultApps: AppConfig[] = [
  {
    // app-type-exception: the embedded default is one concrete app, written out as its config.
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
    const settings = appTypeOf(app).settingsSchema.safeParse(rule.settings);
    if (!settings.success) {
      for (const issue of settings.error.issues) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "settings", ...issue.path.map(String)], message: issue.message });
      }
    }
  });
}

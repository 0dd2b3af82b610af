/**
 * The config an app that raises manual tasks shares with every other such app, whatever its type
 * (manual, huntress): its template's roles in precedence order, the portal link and the tasks'
 * SLA. The template is resolved at load so everything downstream reads one shape.
 */
import { z } from "zod";
import { nameSchema } from "../app-type.js";
import type { Template } from "./templates.js";

/**
 * The keys of a task-raising app entry after `name`, `type` and `template` (kept in this order:
 * the rules fingerprint hashes the parsed apps, and a new order would re-plan every user once).
 */
export const taskAppFields = {
  /** dry-run records planned actions in the audit log instead of raising tasks or calling an API. */
  mode: z.enum(["live", "dry-run"]).default("live"),
  /** Precedence order of the template's roles (earlier beats later); default: the template's order. */
  roles: z.array(z.object({ name: nameSchema }).strict()).min(1).optional(),
  portalUrl: z.string().min(1).optional(),
  /** Tasks are due this many hours after they are raised; later ones are flagged overdue. */
  slaHours: z.number().positive().default(24),
  /** Every task of the app also exists as one HaloPSA ticket (docs/manual-tasks.md, "Tasks as HaloPSA tickets"). */
  tickets: z
    .object({
      halopsa: z
        .object({
          /** The halopsa app whose instance gets the tickets; default: the only one configured. */
          app: nameSchema.optional(),
          ticketTypeId: z.number().int().positive(),
          /** The team (by name, as HaloPSA's Faults.team) whose queue the tickets land in. */
          team: z.string().min(1),
          priorityId: z.number().int().positive().optional(),
          clientId: z.number().int().positive().optional(),
          siteId: z.number().int().positive().optional(),
          /** Statuses that count as closed; default: the instance's own closed statuses (GET /api/Status). */
          closedStatusIds: z.array(z.number().int().positive()).min(1).optional(),
        })
        .strict(),
    })
    .strict()
    .optional(),
};

export type TicketSettings = NonNullable<z.output<typeof taskAppFields.tickets>>["halopsa"];

/** A template whose portal link is settled (the app's, the template's, or "the portal"). */
export type ResolvedTemplate = Template & { readonly portalUrl: string };

type TaskAppInput = { readonly roles?: readonly { readonly name: string }[] | undefined; readonly portalUrl?: string | undefined };

/**
 * The app with its template resolved and its roles checked against the template's: a role the
 * template does not have is an issue at `roles[i].name`, naming the roles it has.
 */
export function withTemplate<A extends TaskAppInput>(app: A, template: Template, ctx: z.RefinementCtx) {
  const roles = app.roles ?? template.roles.map((r) => ({ name: r.name }));
  for (const [i, r] of roles.entries()) {
    if (!template.roles.some((t) => t.name === r.name)) {
      ctx.addIssue({ code: "custom", path: ["roles", i, "name"], message: `"${r.name}" is not a role of the template (roles: ${template.roles.map((t) => t.name).join(", ")})` });
    }
  }
  const resolved: ResolvedTemplate = { ...template, portalUrl: app.portalUrl ?? template.portalUrl ?? "the portal" };
  // Drift of a portal reached by people is a task, never an automatic removal.
  return { ...app, template: resolved, roles, enforceDrift: false as const };
}

/** "Huntress" as a heading; a label like "the portal" reads well only in a sentence, so the app's name instead. */
export const taskAppLabel = (app: { readonly name: string; readonly template: Template }): string => (/^the\s/i.test(app.template.label) ? app.name : app.template.label);

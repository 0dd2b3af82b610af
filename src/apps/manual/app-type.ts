/**
 * The `manual` app type: an app without an API, whose planned actions become manual tasks written
 * from a template (built in: huntress, invite-portal; or one declared inline). Links are bound to
 * the app's name: a portal reached only by people has no other identity.
 */
import { z } from "zod";
import { nameSchema, type AppType } from "../app-type.js";
import { ManualConnector } from "./connector.js";
import { taskAppFields, taskAppLabel, withTemplate } from "./task-app.js";
import { builtInTemplates, templateSchema } from "./templates.js";

const manualAppSchema = z
  .object({
    name: nameSchema,
    type: z.literal("manual"),
    template: z.union([z.enum(Object.keys(builtInTemplates) as [string, ...string[]]), templateSchema]),
    ...taskAppFields,
  })
  .strict()
  .transform((app, ctx) => withTemplate(app, typeof app.template === "string" ? builtInTemplates[app.template]! : app.template, ctx));

export type ManualAppConfig = z.output<typeof manualAppSchema>;

export const manualAppType = {
  type: "manual",
  configSchema: manualAppSchema,
  settingsSchema: z.object({}).strict(),
  instanceOf: (app) => `manual:${app.name}`,
  label: taskAppLabel,
  createConnector: (app, deps) => Promise.resolve(new ManualConnector(app, deps.instance)),
} satisfies AppType<typeof manualAppSchema>;

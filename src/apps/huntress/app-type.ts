/**
 * The `huntress` app type: Huntress through its memberships API (./api-connector.ts), with the
 * built-in huntress template's manual task as the fallback whenever the API cannot do the work.
 * Before this type existed it was spelt `type: manual, template: huntress, mode: api`; that
 * spelling is rewritten to this one at load, with a warning, and keeps its name, its instance and
 * so its identity-map links.
 */
import { z } from "zod";
import { nameSchema, type AppType } from "../app-type.js";
import { taskAppFields, taskAppLabel, withTemplate } from "../manual/task-app.js";
import { builtInTemplates } from "../manual/templates.js";
import { HuntressApiConnector } from "./api-connector.js";
import type { HuntressClient } from "./client.js";

const huntressAppSchema = z
  .object({
    name: nameSchema,
    type: z.literal("huntress"),
    ...taskAppFields,
    /**
     * false: the key has no write permission (it can only read memberships). Every change is then
     * a manual task, as for a manual app, and the API reads accounts back for drift and for
     * verifying tasks. Absent means true (and leaves the parsed app, so the rules fingerprint, as before).
     */
    writes: z.boolean().optional(),
  })
  .strict()
  .transform((app, ctx) => withTemplate(app, builtInTemplates["huntress"]!, ctx));

export type HuntressAppConfig = z.output<typeof huntressAppSchema>;

/** The Huntress API client every huntress app shares. */
export interface HuntressConnection {
  readonly client: HuntressClient;
  /** The same account for the app checks: no retries and a short timeout. */
  readonly checkClient?: HuntressClient;
  /** The managed account a reseller key acts on. */
  readonly accountId?: number | undefined;
}

export interface HuntressDeps {
  huntress(): Promise<HuntressConnection>;
}

export const huntressAppType = {
  type: "huntress",
  configSchema: huntressAppSchema,
  settingsSchema: z.object({}).strict(),
  // By API URL and account: a reseller key reaches several accounts, and membership ids are per account.
  instanceOf: (_app, shared) => `huntress:${shared.huntress.url.replace(/\/+$/, "").toLowerCase()}#account=${shared.huntress.accountId ?? "own"}`,
  label: taskAppLabel,
  // GET /v1/memberships, with or without write permission.
  readsAccounts: () => true,
  async createConnector(app, deps) {
    const huntress = await deps.huntress();
    const writes = app.writes !== false;
    deps.log.info(
      writes
        ? "Huntress API: invitations, role changes and removals go through the memberships API; failures become manual tasks"
        : "Huntress API read-only (writes: false): every change is a manual task; memberships are read back for drift and to verify tasks",
      { app: app.name, instance: deps.instance },
    );
    return new HuntressApiConnector({ app, ...huntress, instance: deps.instance, log: deps.log, writes });
  },
  checkShared(app, shared) {
    const why = `app "${app.name}" has type "huntress" (or make it type "manual" with template "huntress" for manual tasks only)`;
    return [
      ...(shared.huntress.apiKey === undefined ? [{ path: ["huntress", "apiKey"], message: `HUNTRESS_API_KEY (huntress.apiKey) is required: ${why}` }] : []),
      ...(shared.huntress.apiSecret === undefined ? [{ path: ["huntress", "apiSecret"], message: `HUNTRESS_API_SECRET (huntress.apiSecret) is required: ${why}` }] : []),
    ];
  },
  respell(entry) {
    if (entry["type"] !== "manual" || entry["template"] !== "huntress" || entry["mode"] !== "api") return undefined;
    const { type: _type, template: _template, mode: _mode, ...rest } = entry;
    const name = typeof rest["name"] === "string" ? `"${rest["name"]}"` : "(unnamed)";
    return {
      entry: { ...rest, type: "huntress" },
      warning:
        `app ${name}: "type: manual, template: huntress, mode: api" is deprecated; write "type: huntress" instead and drop "template" and "mode". ` +
        "The app keeps its name, its instance and its identity-map links: nothing to rebind.",
    };
  },
} satisfies AppType<typeof huntressAppSchema, HuntressDeps>;

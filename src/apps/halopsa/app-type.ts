/**
 * The `halopsa` app type: agents created, changed and deactivated through the HaloPSA API
 * (./connector.ts), against the configured tenant or the built-in simulator.
 */
import { z } from "zod";
import { nameSchema, type AppType } from "../app-type.js";
import type { HaloPsaClient } from "./client.js";
import { HaloPsaConnector } from "./connector.js";

/** HaloPSA settings a role or a rule can carry: HaloPSA role names, team names (first = default team), licence. */
export const haloPsaSettingsSchema = z
  .object({
    haloRoles: z.array(z.string().min(1)).optional(),
    teams: z.array(z.string().min(1)).optional(),
    licenceType: z.string().min(1).optional(),
  })
  .strict();

export type HaloPsaSettings = z.infer<typeof haloPsaSettingsSchema>;

const haloPsaAppSchema = z
  .object({
    name: nameSchema,
    type: z.literal("halopsa"),
    /** dry-run records planned actions in the audit log instead of calling the app. */
    mode: z.enum(["live", "dry-run"]).default("live"),
    /** Ordered by precedence: an earlier role beats a later one when several rules match. */
    roles: z.array(haloPsaSettingsSchema.extend({ name: nameSchema })).min(1),
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

export type HaloPsaAppConfig = z.output<typeof haloPsaAppSchema>;

/** The built-in simulator is an instance of its own: links made against it never touch a real HaloPSA. */
export const SIMULATOR_INSTANCE = "halopsa:built-in-simulator";

/** The HaloPSA client every halopsa app shares (the configured tenant or the built-in simulator). */
export interface HaloPsaConnection {
  readonly client: HaloPsaClient;
  /** The same tenant for the app checks: no retries and a short timeout, so a check says at once what is wrong. */
  readonly checkClient?: HaloPsaClient;
  readonly licenceTypes: Readonly<Record<string, number>>;
  readonly createSettleMs: number;
  /** Agents per POST in a pass over many users. */
  readonly batchSize?: number;
}

export interface HaloPsaDeps {
  haloPsa(): Promise<HaloPsaConnection>;
}

export const haloPsaAppType = {
  type: "halopsa",
  configSchema: haloPsaAppSchema,
  settingsSchema: haloPsaSettingsSchema,
  // By base URL and tenant: one HaloPSA can host several tenants, and agent ids are per tenant.
  instanceOf: (_app, shared) => (shared.halopsa.url === undefined ? SIMULATOR_INSTANCE : `halopsa:${shared.halopsa.url.toLowerCase()}#tenant=${shared.halopsa.tenant ?? ""}`),
  label: () => "HaloPSA",
  readsAccounts: () => true,
  async createConnector(app, deps) {
    const halo = await deps.haloPsa();
    return new HaloPsaConnector({
      app: app.name,
      client: halo.client,
      ...(halo.checkClient === undefined ? {} : { checkClient: halo.checkClient }),
      instance: deps.instance,
      createSettleMs: halo.createSettleMs,
      ...(halo.batchSize === undefined ? {} : { batchSize: halo.batchSize }),
      roles: Object.fromEntries(app.roles.map((r) => [r.name, { haloRoles: r.haloRoles ?? [] }])),
      reassignTicketsTo: app.reassignTicketsTo,
      ssoEmailMustMatch: app.ssoEmailMustMatch,
      licenceTypes: halo.licenceTypes,
      log: deps.log,
    });
  },
} satisfies AppType<typeof haloPsaAppSchema, HaloPsaDeps>;

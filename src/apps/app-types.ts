/**
 * Every app type the bridge knows, in one list: adding one is adding its folder and a line here.
 * The config's app entries, their settings, instances and connectors are all read off this list.
 */
import { z } from "zod";
import type { AppType, BaseConnectorDeps, ConfigIssue, SharedSettings } from "./app-type.js";
import { haloPsaAppType, type HaloPsaDeps } from "./halopsa/app-type.js";
import { ticketTargetIssues, ticketTargetOf } from "./halopsa/ticket-target.js";
import { huntressAppType, type HuntressDeps } from "./huntress/app-type.js";
import { manualAppType } from "./manual/app-type.js";
import type { ResolvedTemplate, TicketSettings } from "./manual/task-app.js";

export const appTypes = [haloPsaAppType, huntressAppType, manualAppType] as const;

export type AppConfig = z.output<(typeof appTypes)[number]["configSchema"]>;

/** What the composition root gives every constructor: the base deps and each type's shared clients. */
export type ConnectorDeps = BaseConnectorDeps & HaloPsaDeps & HuntressDeps;

/** An app that raises manual tasks (all of its work, or what its API cannot do): it has a template. */
export type TaskAppConfig = Extract<AppConfig, { readonly template: ResolvedTemplate }>;

export const raisesTasks = (app: AppConfig): app is TaskAppConfig => "template" in app;

const knownTypes = appTypes.map((t) => t.type).join(", ");

/** One app entry of the config file: told apart by `type`, which must name a type of the list. */
export const appSchema = z.discriminatedUnion(
  "type",
  appTypes.map((t) => t.configSchema) as unknown as [(typeof appTypes)[number]["configSchema"], ...(typeof appTypes)[number]["configSchema"][]],
  {
    error: (issue) =>
      issue.code === "invalid_union" && issue.note === "No matching discriminator"
        ? `${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)} is not one of ${knownTypes}`
        : undefined,
  },
);

/**
 * The type of a parsed app. Its methods take that type's config; `app` is one, because its `type`
 * chose the type's schema when it was parsed.
 */
export function appTypeOf(app: AppConfig): AppType<z.ZodType<AppConfig, unknown>, ConnectorDeps> {
  const type = appTypes.find((t) => t.type === app.type);
  if (!type) throw new Error(`app "${app.name}" has an unknown type "${app.type}"`);
  return type as AppType<z.ZodType<AppConfig, unknown>, ConnectorDeps>;
}

export function instanceOf(app: AppConfig, shared: SharedSettings): string {
  return appTypeOf(app).instanceOf(app, shared);
}

/** Whether the app's accounts can be read back (docs/manual-tasks.md, "Verified by read-back"). */
export function readsAccounts(app: AppConfig): boolean {
  return appTypeOf(app).readsAccounts?.(app) ?? false;
}

/** Problems of each app with the shared settings (missing credentials), at paths from the config root. */
export function checkShared(apps: readonly AppConfig[], shared: SharedSettings): ConfigIssue[] {
  return apps.flatMap((app) => appTypeOf(app).checkShared?.(app, shared) ?? []);
}

/**
 * Raw app entries with every older spelling rewritten to today's (a type asks for the entries it
 * replaces), and one warning per rewritten entry, by its index, saying what to write instead.
 */
export function respellApps(entries: readonly unknown[]): { entries: unknown[]; warnings: { index: number; warning: string }[] } {
  const warnings: { index: number; warning: string }[] = [];
  const out = entries.map((entry, index) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return entry;
    for (const type of appTypes as readonly AppType[]) {
      const respelt = type.respell?.(entry as Record<string, unknown>);
      if (respelt) {
        warnings.push({ index, warning: respelt.warning });
        return respelt.entry;
      }
    }
    return entry;
  });
  return { entries: out, warnings };
}

/** Each task app with `tickets.halopsa` must name (or have exactly one) halopsa app to send them to. */
export function checkTicketTargets(apps: readonly AppConfig[]): ConfigIssue[] {
  return ticketTargetIssues(apps.filter(raisesTasks), apps);
}

/** Task app → the halopsa app its tickets go to and its ticket settings, for the apps that have tickets. */
export function ticketTargets(apps: readonly AppConfig[]): Map<string, { readonly halopsaApp: string; readonly settings: TicketSettings }> {
  const out = new Map<string, { halopsaApp: string; settings: TicketSettings }>();
  for (const app of apps.filter(raisesTasks)) {
    const found = app.tickets && ticketTargetOf(app, apps);
    if (found && "target" in found) out.set(app.name, { halopsaApp: found.target, settings: app.tickets!.halopsa });
  }
  return out;
}

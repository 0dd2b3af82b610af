/**
 * Which halopsa app a task app's tickets go to (docs/manual-tasks.md, "Tasks as HaloPSA tickets"):
 * the one named in `tickets.halopsa.app`, else the only halopsa app configured. Checked at load so
 * a bridge never starts with tickets that have nowhere to go.
 */
import type { AppConfigBase, ConfigIssue } from "../app-type.js";
import type { TicketSettings } from "../manual/task-app.js";

type TicketedApp = AppConfigBase & { readonly tickets?: { readonly halopsa: TicketSettings } | undefined };

const isHaloPsa = (app: AppConfigBase): boolean => app.type === "halopsa";

/** The halopsa app the tickets of `app` go to, or an explanation of why there is none. */
export function ticketTargetOf(app: TicketedApp, apps: readonly AppConfigBase[]): { target: string } | { problem: string } {
  const settings = app.tickets?.halopsa;
  if (!settings) return { problem: `app "${app.name}" has no tickets` };
  const halos = apps.filter(isHaloPsa).map((a) => a.name);
  if (settings.app !== undefined) {
    return halos.includes(settings.app)
      ? { target: settings.app }
      : { problem: `"${settings.app}" is not a halopsa app (halopsa apps: ${halos.join(", ") || "none"})` };
  }
  if (halos.length === 1) return { target: halos[0]! };
  return halos.length === 0
    ? { problem: "tickets go to a HaloPSA instance: add an app of type halopsa" }
    : { problem: `several halopsa apps (${halos.join(", ")}): name one with tickets.halopsa.app` };
}

export function ticketTargetIssues(taskApps: readonly TicketedApp[], apps: readonly AppConfigBase[]): ConfigIssue[] {
  return taskApps.flatMap((app) => {
    if (!app.tickets) return [];
    const found = ticketTargetOf(app, apps);
    if ("target" in found) return [];
    const index = apps.indexOf(app);
    return [{ path: ["apps", index, "tickets", "halopsa", ...(app.tickets.halopsa.app === undefined ? [] : ["app"])], message: found.problem }];
  });
}

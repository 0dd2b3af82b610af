/**
 * How apps and roles are named to people: a manual app's template gives its roles the names its
 * portal uses ("Account Admin"), which is what a reviewer types or picks there.
 */
import { appTypeOf, raisesTasks, type AppConfig } from "../../apps/app-types.js";

export function appLabel(apps: readonly AppConfig[], name: string): string {
  const app = apps.find((a) => a.name === name);
  return app ? appTypeOf(app).label(app) : name;
}

export function roleLabel(apps: readonly AppConfig[], appName: string, role: string | null): string {
  if (role === null) return "none";
  const app = apps.find((a) => a.name === appName);
  return app && raisesTasks(app) ? (app.template.roles.find((r) => r.name === role)?.label ?? role) : role;
}

/**
 * How apps and roles are named to people: a manual app's template gives its roles the names its
 * portal uses ("Account Admin"), which is what a reviewer types or picks there.
 */
import type { AppConfig } from "../../provisioning/config-schema.js";

export function appLabel(apps: readonly AppConfig[], name: string): string {
  const app = apps.find((a) => a.name === name);
  // Template labels like "the portal" read well in a sentence, not as a heading.
  if (app?.type === "manual" && !/^the\s/i.test(app.template.label)) return app.template.label;
  if (app?.type === "halopsa") return "HaloPSA";
  return name;
}

export function roleLabel(apps: readonly AppConfig[], appName: string, role: string | null): string {
  if (role === null) return "none";
  const app = apps.find((a) => a.name === appName);
  return app?.type === "manual" ? (app.template.roles.find((r) => r.name === role)?.label ?? role) : role;
}

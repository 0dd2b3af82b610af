/**
 * Identity-map links are bound to the app instance they were made against (docs/provisioning.md,
 * "Instances"). At start: links made before binding existed are taken to belong to the instance
 * configured now, and apps whose links were made against another instance are named, because the
 * worker acts on none of those links until an admin runs `scim-bridge apps rebind` or `apps forget`.
 */
import type { IdentityMap } from "../db/identity-map.js";
import type { Connector } from "../domain/connector.js";
import type { Logger } from "../log.js";

export interface ForeignLinks {
  readonly app: string;
  readonly configured: string;
  /** Instance → how many live links were made against it. */
  readonly others: ReadonlyMap<string, number>;
}

export function checkInstances(accounts: IdentityMap, connectors: ReadonlyMap<string, Connector>, log: Logger): ForeignLinks[] {
  const out: ForeignLinks[] = [];
  for (const [app, connector] of connectors) {
    const bound = accounts.bindUnboundLinks(app, connector.instance);
    if (bound > 0) log.info("identity-map links from before instance binding now belong to the configured instance", { app, instance: connector.instance, links: bound });
    const others = new Map([...accounts.instancesOf(app)].filter(([instance]) => instance !== connector.instance));
    if (others.size === 0) continue;
    out.push({ app, configured: connector.instance, others });
    log.warn(describeForeignLinks({ app, configured: connector.instance, others }), { app, configured: connector.instance, others: Object.fromEntries(others) });
  }
  return out;
}

/** One clear message for the start-up banner and log. */
export function describeForeignLinks(f: ForeignLinks): string {
  const counts = [...f.others].map(([instance, n]) => `${n} made against ${instance}`).join(", ");
  return (
    `${f.app}: the configured instance is ${f.configured}, but identity-map links (${counts}) were made against another one; ` +
    `the bridge will not act on them. Run "scim-bridge apps rebind ${f.app} --dry-run" to match them by email in the new instance, ` +
    `or "scim-bridge apps forget ${f.app}" to drop them.`
  );
}

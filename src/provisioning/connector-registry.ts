/**
 * Builds one connector per configured app from its config (the consumer of the connector contract
 * picks the implementation). Adding an app type is adding a connector and a case here.
 */
import type { Connector } from "../domain/connector.js";
import type { Logger } from "../log.js";
import type { AppConfig } from "./config-schema.js";
import type { HaloPsaClient } from "../apps/halopsa/client.js";
import { HaloPsaConnector } from "../apps/halopsa/connector.js";
import { HuntressApiConnector } from "../apps/huntress/api-connector.js";
import type { HuntressClient } from "../apps/huntress/client.js";
import { ManualConnector } from "../apps/manual/connector.js";

export interface ConnectorDeps {
  readonly log: Logger;
  /** The instance each app's links are bound to (compose.ts `appInstances`). */
  readonly instances: ReadonlyMap<string, string>;
  /** The HaloPSA client, when any app is of type halopsa. */
  readonly haloPsa?: { readonly client: HaloPsaClient; readonly licenceTypes: Readonly<Record<string, number>>; readonly createSettleMs: number } | undefined;
  /** The Huntress API client, when any manual app has `mode: api`. */
  readonly huntress?: { readonly client: HuntressClient; readonly accountId?: number | undefined } | undefined;
}

export function createConnectors(apps: readonly AppConfig[], deps: ConnectorDeps): Map<string, Connector> {
  const connectors = new Map<string, Connector>();
  for (const app of apps) {
    switch (app.type) {
      case "halopsa": {
        if (!deps.haloPsa) throw new Error(`app "${app.name}" needs a HaloPSA connection`);
        connectors.set(
          app.name,
          new HaloPsaConnector({
            app: app.name,
            client: deps.haloPsa.client,
            instance: deps.instances.get(app.name)!,
            createSettleMs: deps.haloPsa.createSettleMs,
            roles: Object.fromEntries(app.roles.map((r) => [r.name, { haloRoles: r.haloRoles ?? [] }])),
            reassignTicketsTo: app.reassignTicketsTo,
            ssoEmailMustMatch: app.ssoEmailMustMatch,
            licenceTypes: deps.haloPsa.licenceTypes,
            log: deps.log,
          }),
        );
        break;
      }
      case "manual":
        if (app.mode === "api") {
          if (!deps.huntress) throw new Error(`app "${app.name}" (mode: api) needs the Huntress API key and secret`);
          connectors.set(app.name, new HuntressApiConnector({ app, ...deps.huntress, instance: deps.instances.get(app.name)!, log: deps.log }));
        } else {
          connectors.set(app.name, new ManualConnector(app, deps.instances.get(app.name)!));
        }
        break;
    }
  }
  return connectors;
}

/**
 * Builds one connector per configured app. Adding an app type is adding a connector and a case here.
 */
import type { AuditLog } from "../db/audit.js";
import type { Logger } from "../log.js";
import type { AppConfig } from "../provisioning/config-schema.js";
import type { Connector } from "../domain/connector.js";
import type { HaloPsaClient } from "./halopsa/client.js";
import { HaloPsaConnector } from "./halopsa/connector.js";
import { HuntressApiConnector } from "./huntress/api-connector.js";
import type { HuntressClient } from "./huntress/client.js";
import { ManualConnector, type ManualConnectorOptions } from "./manual/connector.js";

export interface ConnectorDeps {
  readonly log: Logger;
  /** Task storage for apps without an API. */
  readonly manual: Omit<ManualConnectorOptions, "app">;
  /** The HaloPSA client, when any app is of type halopsa. */
  readonly haloPsa?: { readonly client: HaloPsaClient; readonly licenceTypes: Readonly<Record<string, number>> } | undefined;
  /** The Huntress API client, when any manual app has `mode: api`; refresh() records audit events. */
  readonly huntress?: { readonly client: HuntressClient; readonly accountId?: number | undefined; readonly audit: AuditLog } | undefined;
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
          const { client, accountId, audit } = deps.huntress;
          connectors.set(app.name, new HuntressApiConnector({ ...deps.manual, app, client, accountId, audit, log: deps.log }));
        } else {
          connectors.set(app.name, new ManualConnector({ ...deps.manual, app }));
        }
        break;
    }
  }
  return connectors;
}

/**
 * Builds one connector per configured app, each by its app type's constructor (src/apps/app-types.ts).
 * The consumer of the connector contract picks the implementation; the app type decides how.
 */
import { appTypeOf, type AppConfig, type ConnectorDeps } from "../apps/app-types.js";
import type { Connector } from "../domain/connector.js";

/** What every app type's constructor shares; the instance is each app's own. */
export type SharedConnectorDeps = Omit<ConnectorDeps, "instance">;

export async function createConnectors(apps: readonly AppConfig[], instances: ReadonlyMap<string, string>, deps: SharedConnectorDeps): Promise<Map<string, Connector>> {
  const connectors = new Map<string, Connector>();
  for (const app of apps) {
    connectors.set(app.name, await appTypeOf(app).createConnector(app, { ...deps, instance: instances.get(app.name)! }));
  }
  return connectors;
}

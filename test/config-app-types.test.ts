/**
 * App entries of the config file, one app type each (src/apps/app-types.ts): `type: huntress`,
 * the deprecated spelling it replaces, and the error a misspelt type gets.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { HuntressApiConnector } from "../src/apps/huntress/api-connector.js";
import { ManualConnector } from "../src/apps/manual/connector.js";
import { appInstances, connect } from "../src/compose.js";
import { loadConfig } from "../src/config.js";
import { capturingLogger } from "./support/io.js";

const CREDENTIALS = { HUNTRESS_API_KEY: "key", HUNTRESS_API_SECRET: "secret", HUNTRESS_URL: "https://API.example.test/" };
const OLD_SPELLING = { name: "edr", type: "manual", template: "huntress", mode: "api", slaHours: 8, roles: [{ name: "standard" }, { name: "admin" }] };
const NEW_SPELLING = { name: "edr", type: "huntress", slaHours: 8, roles: [{ name: "standard" }, { name: "admin" }] };
const noObserver = { exchanged: () => undefined, rateLimitWaited: () => undefined };

/** A config file holding `content`, removed when the test ends. */
function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-app-types-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "bridge.yaml");
  writeFileSync(file, stringify(content));
  return file;
}

const load = (apps: unknown[], env: Record<string, string> = CREDENTIALS) => {
  const file = configFile({ apps, rules: [{ group: "EDR Admins", app: "edr", role: "admin" }] });
  return { file, config: loadConfig({ SCIM_BRIDGE_CONFIG: file, ...env }) };
};

describe("app types in the config", () => {
  it("parses type: huntress with the huntress template, its roles in the order given, and no warning", () => {
    const { config } = load([NEW_SPELLING]);
    expect(config.apps).toMatchObject([{ name: "edr", type: "huntress", mode: "live", slaHours: 8, roles: [{ name: "standard" }, { name: "admin" }], enforceDrift: false }]);
    expect(config.apps![0]).toHaveProperty("template.label", "Huntress");
    expect(config.deprecations).toEqual([]);
  });

  it("reads the old spelling as the same huntress app, and says once what to write instead", () => {
    const { file, config } = load([OLD_SPELLING]);
    expect(config.apps).toEqual(load([NEW_SPELLING]).config.apps);
    expect(config.deprecations).toEqual([
      `apps[0] (in ${file}): app "edr": "type: manual, template: huntress, mode: api" is deprecated; write "type: huntress" instead and drop "template" and "mode". ` +
        "The app keeps its name, its instance and its identity-map links: nothing to rebind.",
    ]);
  });

  it("builds the same Huntress API connector on the same instance from either spelling", async () => {
    const { log } = capturingLogger();
    const built = await Promise.all(
      [OLD_SPELLING, NEW_SPELLING].map(async (app) => {
        const { config } = load([app]);
        const { connectors } = await connect(config, log, noObserver, { simulator: false });
        return { connector: connectors.get("edr"), instance: appInstances(config, config.apps!).get("edr") };
      }),
    );
    for (const { connector, instance } of built) {
      expect(connector).toBeInstanceOf(HuntressApiConnector);
      // The string API-mode apps were bound to before type: huntress existed: existing links stay theirs.
      expect(instance).toBe("huntress:https://api.example.test#account=own");
      expect(connector!.instance).toBe(instance);
    }
  });

  it("keeps a manual app with the huntress template on manual tasks, bound to its name", async () => {
    const { config } = load([{ name: "edr", type: "manual", template: "huntress" }], {});
    const { connectors } = await connect(config, capturingLogger().log, noObserver, { simulator: false });
    expect(connectors.get("edr")).toBeInstanceOf(ManualConnector);
    expect(connectors.get("edr")!.instance).toBe("manual:edr");
    expect(config.deprecations).toEqual([]);
  });

  it("names the known types when an app's type is misspelt", () => {
    const file = configFile({ apps: [{ name: "edr", type: "huntres" }] });
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: file })).toThrow(`apps[0].type (in ${file}): "huntres" is not one of halopsa, huntress, manual`);
  });

  it("refuses mode api on any other spelling, and a role the huntress template does not have", () => {
    expect(() => load([{ name: "edr", type: "manual", template: "invite-portal", mode: "api" }])).toThrow(/apps\[0\]\.mode .*: "api" is not one of live, dry-run/);
    expect(() => load([{ name: "edr", type: "huntress", mode: "api" }])).toThrow(/apps\[0\]\.mode /);
    expect(() => load([{ name: "edr", type: "huntress", roles: [{ name: "owner" }] }])).toThrow(/apps\[0\]\.roles\[0\]\.name .*"owner" is not a role of the template \(roles: admin, standard\)/);
  });

  it("checks a rule's settings against its app's type: HaloPSA settings on a huntress app are refused", () => {
    const file = configFile({ apps: [NEW_SPELLING], rules: [{ group: "EDR Admins", app: "edr", role: "admin", settings: { teams: ["1st Line"] } }] });
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: file, ...CREDENTIALS })).toThrow(/rules\[0\]\.settings/);
  });
});

describe("tickets.halopsa on a task app", () => {
  const HALO = { name: "psa", type: "halopsa", roles: [{ name: "agent" }] };
  const tickets = (extra: Record<string, unknown> = {}) => ({ halopsa: { ticketTypeId: 3, team: "1st Line", ...extra } });
  const loadTickets = (apps: unknown[]) => loadConfig({ SCIM_BRIDGE_CONFIG: configFile({ apps, rules: [] }), ...CREDENTIALS });

  it("sends the tickets of a manual app and of the huntress fallback to the only halopsa app", () => {
    const config = loadTickets([HALO, { ...NEW_SPELLING, tickets: tickets() }, { name: "portal", type: "manual", template: "invite-portal", tickets: tickets({ closedStatusIds: [9] }) }]);
    expect(config.apps![1]).toMatchObject({ tickets: { halopsa: { ticketTypeId: 3, team: "1st Line" } } });
    expect(config.apps![2]).toMatchObject({ tickets: { halopsa: { closedStatusIds: [9] } } });
  });

  it("refuses to start when no halopsa app is configured, or several and none is named, or the named one is not halopsa", () => {
    expect(() => loadTickets([{ ...NEW_SPELLING, tickets: tickets() }])).toThrow(/apps\[0\]\.tickets\.halopsa.*add an app of type halopsa/);
    const twoHalos = [HALO, { ...HALO, name: "psa2" }, { ...NEW_SPELLING, tickets: tickets() }];
    expect(() => loadTickets(twoHalos)).toThrow(/apps\[2\]\.tickets\.halopsa.*several halopsa apps \(psa, psa2\): name one with tickets\.halopsa\.app/);
    expect(loadTickets([HALO, { ...HALO, name: "psa2" }, { ...NEW_SPELLING, tickets: tickets({ app: "psa2" }) }]).apps![2]).toMatchObject({ tickets: { halopsa: { app: "psa2" } } });
    expect(() => loadTickets([HALO, { ...NEW_SPELLING, tickets: tickets({ app: "edr" }) }])).toThrow(/apps\[1\]\.tickets\.halopsa\.app.*"edr" is not a halopsa app \(halopsa apps: psa\)/);
  });

  it("names a misspelt key inside tickets.halopsa, and requires the ticket type and team", () => {
    expect(() => loadTickets([HALO, { ...NEW_SPELLING, tickets: tickets({ teamId: 4 }) }])).toThrow(/apps\[1\]\.tickets\.halopsa\.teamId/);
    expect(() => loadTickets([HALO, { ...NEW_SPELLING, tickets: { halopsa: { team: "1st Line" } } }])).toThrow(/apps\[1\]\.tickets\.halopsa\.ticketTypeId/);
  });
});

/**
 * `scim-bridge apps rebind <app> [--dry-run]` and `scim-bridge apps forget <app> [--dry-run]`: what
 * an admin does when an app's identity-map links were made against another instance than the
 * configured one (docs/provisioning.md, "Instances"). Rebind reads the configured instance back and
 * matches every such link by email; forget drops them. Both print the plan; without --dry-run they
 * apply it in one transaction and queue the users for the running bridge's worker.
 */
import { parseArgs } from "node:util";
import type { TransportObserver } from "../apps/http/observer.js";
import { systemClock } from "../clock.js";
import { SIMULATOR_INSTANCE } from "../apps/halopsa/app-type.js";
import { appInstances, connect, openStores, type Stores } from "../compose.js";
import { appsAndRules, loadConfig, type Config } from "../config.js";
import { openDatabase } from "../db/database.js";
import { ConnectorError } from "../domain/connector-error.js";
import { createLogger } from "../log.js";
import { applyRelink, foreignLinks, formatRelinkPlan, holderIn, planForget, planRebind, type RelinkPlan } from "../provisioning/rebind.js";
import { profileOf } from "../provisioning/rules.js";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, type Out } from "./output.js";

export const APPS_USAGE = `  scim-bridge apps rebind <app> [--dry-run]  (match links made against another instance, by email, in the configured one)
  scim-bridge apps forget <app> [--dry-run]  (drop links made against another instance; the next pass adopts or creates)`;

/** Nothing to count from a one-off command. */
const UNOBSERVED: TransportObserver = { exchanged: () => undefined, rateLimitWaited: () => undefined };

/** The CLI's actor in the audit log. */
const ACTOR = "cli";

export async function appsCommand(command: string | undefined, args: readonly string[], out: Out, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  if (command !== "rebind" && command !== "forget") return undefined;
  const { values, positionals } = parseArgs({ args: [...args], options: { "dry-run": { type: "boolean" } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) {
    out(`Usage:\n${APPS_USAGE}`);
    return EXIT_USAGE;
  }
  const name = positionals[0]!;
  const config = loadConfig(env);
  const { apps } = appsAndRules(config);
  if (!apps.some((a) => a.name === name)) {
    out(`No app named "${name}" is configured (configured: ${apps.map((a) => a.name).join(", ") || "none"}).`);
    return EXIT_USAGE;
  }
  const instance = appInstances(config, apps).get(name)!;
  const db = openDatabase(config.database);
  try {
    const stores = openStores(config, db, systemClock);
    const links = foreignLinks(stores.accounts, name, instance);
    if (links.length === 0) {
      out(`${name}: every link belongs to the configured instance (${instance}); nothing to ${command}.`);
      return EXIT_OK;
    }
    const plan = command === "forget" ? planForget(name, instance, links) : await rebindPlan(config, stores, name, instance, links, out);
    if (plan === undefined) return EXIT_REFUSED;
    const userNameOf = (id: string) => stores.directory.snapshot(id).user?.userName ?? "(deleted user)";
    formatRelinkPlan(plan, userNameOf).forEach((line) => out(line));
    if (values["dry-run"]) {
      out("Dry run: nothing was changed.");
      return EXIT_OK;
    }
    applyRelink(stores, plan, { action: `apps.${command}`, actor: ACTOR, requestId: `cli:apps-${command}` });
    out(`Done. ${plan.steps.length} user(s) queued: the running bridge's worker brings each account to what the rules want.`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

/** Reads the configured instance back and matches the links; undefined (after saying why) when it cannot be read. */
async function rebindPlan(config: Config, stores: Stores, app: string, instance: string, links: Parameters<typeof planForget>[2], out: Out): Promise<RelinkPlan | undefined> {
  if (instance === SIMULATOR_INSTANCE) {
    out(`${app}: the configured instance is the built-in simulator, which starts empty inside each running bridge; use "scim-bridge apps forget ${app}".`);
    return undefined;
  }
  let remote;
  try {
    const { connectors } = await connect(config, createLogger("error"), UNOBSERVED, { simulator: false });
    const connector = connectors.get(app)!;
    if (!connector.readBack) {
      out(`${app}: its accounts cannot be read back, so there is nothing to match against; use "scim-bridge apps forget ${app}".`);
      return undefined;
    }
    remote = await connector.readBack();
  } catch (e: unknown) {
    if (!(e instanceof ConnectorError)) throw e;
    out(`${app}: could not read the configured instance (${instance}): ${e.message}. Nothing was changed.`);
    return undefined;
  }
  return planRebind({
    app,
    instance,
    links,
    remote,
    emailOf: (id) => {
      const user = stores.directory.snapshot(id).user;
      return user && profileOf(user).email;
    },
    holderOf: holderIn(stores.accounts, app, instance),
  });
}

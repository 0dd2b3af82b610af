/**
 * What an app type is: one module in its folder (src/apps/<type>/app-type.ts) registered in one
 * list (./app-types.ts). It owns the config entry of its apps, the settings a rule may give them,
 * the instance their identity-map links are bound to, and how their connector is built. Nothing
 * outside the type's folder and that list asks which type an app is; code that needs a capability
 * reads it from the parsed config (an app with a task `template` raises manual tasks) or from the
 * connector (one with `readBack` can be read back).
 */
import { z } from "zod";
import type { Connector } from "../domain/connector.js";
import type { Logger } from "../log.js";

/** What every app's parsed config has, whatever its type. */
export interface AppConfigBase {
  readonly name: string;
  readonly type: string;
  /** dry-run records planned actions in the audit log instead of calling the app. */
  readonly mode: "live" | "dry-run";
  /** Ordered by precedence: an earlier role beats a later one when several rules match. */
  readonly roles: readonly { readonly name: string }[];
  /** With this on, the reconciler deactivates accounts no rule grants. */
  readonly enforceDrift: boolean;
}

/**
 * The connection settings apps share (config.ts `halopsa` and `huntress`), as much of them as
 * the instance strings and the start-up checks read. The whole Config satisfies it.
 */
export interface SharedSettings {
  readonly halopsa: { readonly url?: string | undefined; readonly tenant?: string | undefined };
  readonly huntress: {
    readonly url: string;
    readonly accountId?: number | undefined;
    readonly apiKey?: string | undefined;
    readonly apiSecret?: string | undefined;
  };
}

/**
 * What every constructor gets besides its app's config. A type that needs a shared client (one
 * per process, built by the composition root on first demand) declares it as its own `D`; the
 * list (./app-types.ts) joins them into the deps the composition root supplies.
 */
export interface BaseConnectorDeps {
  readonly log: Logger;
  /** The instance this app's links are bound to (its type's `instanceOf`). */
  readonly instance: string;
}

/** A problem found at load, at a path from the config's root (["huntress", "apiKey"]). */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** An app entry written in a spelling this type used to be written in, rewritten to today's. */
export interface Respelling {
  readonly entry: Record<string, unknown>;
  /** What to write instead, for the start-up banner and log. */
  readonly warning: string;
}

/** `S`: the schema of its app entries; `D`: the shared clients its constructor needs (none by default). */
export interface AppType<S extends z.ZodType<AppConfigBase, unknown> = z.ZodType<AppConfigBase, unknown>, D extends object = object> {
  /** The value of `type` in an app entry. */
  readonly type: string;
  /** An app entry of this type; its `type` key is a literal, so entries are told apart by it. */
  readonly configSchema: S;
  /** The settings a rule (or one of the app's roles) may carry for an app of this type. */
  readonly settingsSchema: z.ZodType<Record<string, unknown>>;
  /** The instance the app's identity-map links are bound to; existing databases hold these strings. */
  instanceOf(app: z.output<S>, shared: SharedSettings): string;
  /** How the app is named to people ("HaloPSA", a template's label). */
  label(app: z.output<S>): string;
  createConnector(app: z.output<S>, deps: BaseConnectorDeps & D): Promise<Connector>;
  /**
   * Whether the connector built for the app can read its accounts back (implements `readBack`),
   * told from the config alone, for the places that hold no connector (the tasks CLI) and must know
   * whether a done task waits for verification. A test holds it to the connector. Absent: false.
   */
  readsAccounts?(app: z.output<S>): boolean;
  /** Checks against the shared settings at load (credentials this type cannot work without). */
  checkShared?(app: z.output<S>, shared: SharedSettings): ConfigIssue[];
  /** Recognises an entry of another type's spelling that this type replaces, and rewrites it. */
  respell?(entry: Readonly<Record<string, unknown>>): Respelling | undefined;
}

/** App and role names: lower-case, so they read the same in config, URLs and task titles. */
export const nameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "must be lower-case letters, digits and dashes");

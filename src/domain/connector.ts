/**
 * The one small interface every target app implements. HaloPSA implements it with its REST API;
 * apps without an API will implement it by raising manual tasks. Adding an app is adding a
 * connector and a config entry.
 */
import type { AccountState, Action, AppAccount, Profile, Settings } from "./model.js";

export type Capability = "create" | "update" | "deactivate" | "reactivate" | "delete" | "readBack";

/** The account as it stands after an action, written to the identity map by the worker. */
export interface ApplyResult {
  readonly externalId: string | null;
  readonly state: AccountState;
  readonly role: string | null;
  readonly profile: Profile | null;
  readonly settings: Settings;
  /** True when the bridge created the account (false when it adopted an existing one). */
  readonly createdByBridge?: boolean;
  /** Extra audit events the connector wants recorded (e.g. tickets reassigned, SSO email change). */
  readonly events?: readonly { readonly action: string; readonly detail: Record<string, unknown> }[];
}

/** An account as the app reports it, for drift detection. */
export interface RemoteAccount {
  readonly externalId: string;
  readonly email: string;
  readonly name: string;
  readonly enabled: boolean;
  /** Role and settings in the bridge's terms where the connector can tell, else null. */
  readonly role: string | null;
  readonly lastLoginAt: string | null;
}

export interface ApplyContext {
  /** The request id of the SCIM change (or reconcile pass) that caused this, for logs and audit. */
  readonly requestId: string | null;
  /** The identity-map row as the planner saw it, if any. */
  readonly current?: AppAccount | undefined;
}

/** What a connector's refresh moved forward in the identity map. */
export interface RefreshReport {
  readonly changed: number;
}

export interface Connector {
  readonly app: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Carries one action out. Throws on failure; the worker retries with backoff. Must be idempotent. */
  apply(action: Exclude<Action, { kind: "discard" }>, ctx: ApplyContext): Promise<ApplyResult>;
  /** Every account in the app (enabled and disabled), where the app can list them. */
  readBack?(): Promise<RemoteAccount[]>;
  /**
   * Reads the app and moves identity-map rows forward where the app shows progress the bridge
   * cannot be told about (Huntress: an invitation accepted), recording each change with its audit
   * events in one transaction. The reconciler calls it before it re-plans everyone.
   */
  refresh?(requestId: string): Promise<RefreshReport>;
}

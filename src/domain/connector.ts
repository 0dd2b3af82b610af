/**
 * The connector contract: the one small interface every target app implements, owned here by its
 * consumer (the worker) and implemented in src/apps. A connector carries one action out against
 * its app and returns what happened plus intents (a task to raise or cancel, events to record); it
 * never writes to the database. The worker is the only writer of the identity map, tasks and audit
 * for provisioning, one transaction per outcome. What a connector can do beyond `apply` is read
 * off the optional methods it implements (see `capabilitiesOf`), never declared.
 */
import type { AccountState, Action, AppAccount, Profile, RemovalReason, Settings } from "./model.js";
import type { TaskAction } from "./task.js";

export type ApplicableAction = Exclude<Action, { kind: "discard" }>;

/** An event for the audit log, recorded with the outcome it belongs to. */
export interface EventIntent {
  readonly action: string;
  readonly detail: Record<string, unknown>;
}

/**
 * A manual task the outcome calls for. `raise` supersedes the open task unless it already asks
 * for exactly this; `cancel` withdraws the open one. `firstStep` goes before the template's steps
 * (why an API could not do it).
 */
export type TaskIntent =
  | {
      readonly kind: "raise";
      readonly action: TaskAction;
      readonly role: string | null;
      readonly previousRole: string | null;
      readonly profile: Profile;
      readonly blockedReason?: string | undefined;
      readonly firstStep?: string | undefined;
      /** Why access goes, when the task takes it all away (its first line says so). */
      readonly removal?: RemovalReason | undefined;
    }
  /** Withdraws the open task (only if it asks for one of `onlyActions`, when given). */
  | { readonly kind: "cancel"; readonly reason: string; readonly onlyActions?: readonly TaskAction[] };

/** The account as it stands after an action, written to the identity map by the worker. */
export interface ApplyResult {
  readonly externalId: string | null;
  readonly state: AccountState;
  readonly role: string | null;
  readonly profile: Profile | null;
  readonly settings: Settings;
  /** True when the bridge created the account (false when it adopted an existing one). */
  readonly createdByBridge?: boolean;
  readonly events?: readonly EventIntent[];
  readonly task?: TaskIntent;
}

/** An account as the app reports it, for drift detection and rebinding. */
export interface RemoteAccount {
  readonly externalId: string;
  readonly email: string;
  readonly name: string;
  readonly enabled: boolean;
  /** The role in the bridge's terms where the connector can tell (else the app's own label, or null). */
  readonly role: string | null;
  readonly lastLoginAt: string | null;
}

/** Who holds an account of the app's instance in the identity map. */
export interface AccountOwner {
  readonly userId: string;
  readonly userName: string | null;
}

/** Read-only views the worker hands a connector for one action. */
export interface ApplyContext {
  /** The request id of the SCIM change (or reconcile pass) that caused this, for logs and audit. */
  readonly requestId: string | null;
  /** The identity-map row as the planner saw it, if any. */
  readonly current?: AppAccount | undefined;
  /** The live owner of an account of this app instance other than this user, if any: never adopt it. */
  readonly ownerOf: (externalId: string) => AccountOwner | undefined;
  /**
   * The other users who would still hold `role` in this app instance: confirmed (active) and not
   * on their way out. The keep-one guard asks it; the worker reads it while it holds the app's
   * kept-role lock, so no other removal of the role is in flight (docs/manual-tasks.md).
   */
  readonly keepersOf: (role: string) => readonly AppAccount[];
}

/** Progress an app shows that the bridge cannot be told about (an invitation accepted). */
export interface AccountProgress {
  /** The row as the connector saw it: applied only if the map still holds exactly this. */
  readonly seen: AppAccount;
  readonly externalId: string;
  readonly state: AccountState;
  readonly role: string | null;
  readonly events: readonly EventIntent[];
  readonly task?: TaskIntent;
}

/** One user's action in a batch, with that user's read-only views. */
export interface BatchItem {
  readonly action: ApplicableAction;
  readonly ctx: ApplyContext;
}

/** What `apply` would have answered for one item: its result, or what it would have thrown. */
export type BatchOutcome = { readonly ok: true; readonly result: ApplyResult } | { readonly ok: false; readonly error: unknown };

export interface Connector {
  readonly app: string;
  /**
   * The app instance this connector talks to (HaloPSA: base URL and tenant; Huntress: API URL and
   * account; a manual app: its name). Identity-map links record it, and links made against
   * another instance are never acted on.
   */
  readonly instance: string;
  /**
   * Carries one action out. Throws a ConnectorError on failure (the worker retries with backoff
   * when it is retryable). Must be idempotent.
   */
  apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult>;
  /**
   * Carries many users' actions out together (one read of the app, writes in batches), answering
   * per item, in the order given, exactly what `apply` would have. Where an app can do it, the
   * worker hands it every action of a pass over many users (./provisioning/apply-batch.ts).
   */
  applyMany?(items: readonly BatchItem[]): Promise<BatchOutcome[]>;
  /** Every account in the app (enabled and disabled), where the app can list them. */
  readBack?(): Promise<RemoteAccount[]>;
  /** Reads the app and reports progress on these accounts; the reconciler records it. */
  refresh?(accounts: readonly AppAccount[]): Promise<AccountProgress[]>;
  /**
   * One cheap authenticated read, proving the app answers and takes these credentials (the
   * start-up and periodic app checks). Throws a ConnectorError that says what is wrong.
   */
  check?(): Promise<void>;
}

export type Capability = "apply" | "readBack" | "refresh";

/** What a connector can do, read off the methods it implements. */
export function capabilitiesOf(c: Connector): Capability[] {
  return ["apply", ...(c.readBack ? (["readBack"] as const) : []), ...(c.refresh ? (["refresh"] as const) : [])];
}

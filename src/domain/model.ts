/**
 * The provisioning vocabulary shared by rules, the planner, the worker and the connectors.
 * Everything here is plain data: a plan is a value a test can compare and `plan --dry-run` can print.
 */

/** The person as the target app needs them, derived from the SCIM user. */
export interface Profile {
  readonly userName: string;
  /** The address the app should use: the primary (else work, else first) email, else userName. */
  readonly email: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly displayName: string;
}

/** App-specific settings a rule grants with a role, e.g. HaloPSA `{ teams: ["1st Line"], licenceType: "named" }`. */
export type Settings = Readonly<Record<string, unknown>>;

/** Why a user has (or lacks) an app: one entry per rule that matched. */
export interface GrantReason {
  readonly rule: number;
  readonly group: string;
  readonly role: string;
}

/** What the directory and the rules say a user should have in one app. */
export interface WantedAccess {
  readonly app: string;
  readonly role: string;
  readonly settings: Settings;
  readonly profile: Profile;
  /** Every matching rule; the first is the winner ("admin because member of 'HaloPSA Admins'"). */
  readonly reasons: readonly GrantReason[];
}

export type AccountState = "pending" | "invited" | "active" | "disabled" | "removed" | "error";

/** What an outcome says exists for a user in an app: what the worker records in the identity map. */
export interface AccountOutcome {
  readonly userId: string;
  readonly app: string;
  /** The app's own id for the account (HaloPSA agent id), once known. */
  readonly externalId: string | null;
  readonly role: string | null;
  readonly state: AccountState;
  /** The profile and settings last written to the app, to detect changes. */
  readonly profile: Profile | null;
  readonly settings: Settings;
  readonly createdByBridge: boolean;
}

/** One row of the identity map: what exists for a user in an app, and the link's bookkeeping. */
export interface AppAccount extends AccountOutcome {
  /** The app instance the link was made against ("" for links older than instance binding). */
  readonly instance: string;
  readonly lastSyncAt: string | null;
  readonly lastError: string | null;
  /** The user who holds the account this user was refused (one owner per account). */
  readonly conflictWith: string | null;
  /** A create got no answer at this time and may still land: do not create again until it settles. */
  readonly createUnsettledAt: string | null;
  /** The user was deleted: the row is history and no longer holds the account. */
  readonly releasedAt: string | null;
}

/** Why access is removed. */
export type RemovalReason = "not-granted" | "inactive" | "deleted";

export type Action =
  /** No account yet: create one (a connector adopts an existing account with the same email instead). */
  | { readonly kind: "create"; readonly app: string; readonly userId: string; readonly role: string; readonly settings: Settings; readonly profile: Profile }
  /** Same role, changed profile or settings. */
  | {
      readonly kind: "update";
      readonly app: string;
      readonly userId: string;
      readonly externalId: string;
      readonly role: string;
      readonly settings: Settings;
      readonly profile: Profile;
      readonly previous: { readonly profile: Profile | null; readonly settings: Settings };
    }
  /** A different role (profile and settings are re-sent with it). */
  | {
      readonly kind: "changeRole";
      readonly app: string;
      readonly userId: string;
      readonly externalId: string;
      readonly role: string;
      readonly previousRole: string | null;
      readonly settings: Settings;
      readonly profile: Profile;
    }
  | { readonly kind: "deactivate"; readonly app: string; readonly userId: string; readonly externalId: string; readonly reason: RemovalReason; readonly profile: Profile | null }
  /** A disabled account is granted again: enable the same account, never a second one. */
  | { readonly kind: "reactivate"; readonly app: string; readonly userId: string; readonly externalId: string; readonly role: string; readonly settings: Settings; readonly profile: Profile }
  /** The map holds an account that never reached the app (no external id): forget it locally. */
  | { readonly kind: "discard"; readonly app: string; readonly userId: string; readonly reason: RemovalReason };

export type ActionKind = Action["kind"];

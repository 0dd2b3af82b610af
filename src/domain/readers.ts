/**
 * What provisioning and the SCIM layer read from the store, as interfaces the store implements:
 * the consumer owns the interface, the implementation (src/db) points down at it.
 */
import type { JsonObject } from "./json.js";

export interface DirectoryUser {
  readonly id: string;
  readonly userName: string;
  readonly active: boolean;
  readonly attributes: JsonObject;
}

export interface DirectoryGroup {
  readonly id: string;
  readonly displayName: string;
  readonly externalId: string | null;
}

/** What the directory holds for a user; `user` is undefined once the IdP deleted it. */
export interface DirectorySnapshot {
  readonly user: DirectoryUser | undefined;
  readonly groups: readonly DirectoryGroup[];
}

/** A user who exists, with their groups. */
export interface DirectoryEntry extends DirectorySnapshot {
  readonly user: DirectoryUser;
}

export interface DirectoryReader {
  snapshot(userId: string): DirectorySnapshot;
  /** SCIM ids of every user in the directory. */
  userIds(): string[];
  /**
   * Every user with their groups, `size` users per page in directory order, for a pass over the
   * whole directory: two queries a page instead of two per user.
   */
  snapshotPages(size: number): Iterable<DirectoryEntry[]>;
}

/** Every group in the directory, for checking rules against it (one query over the groups table). */
export interface GroupCatalog {
  allGroups(): DirectoryGroup[];
}

/** Where directory changes queue provisioning work: in the same transaction as the change. */
export interface ProvisioningQueue {
  enqueueUsers(userIds: Iterable<string>, requestId: string | null): void;
}

/** A user's per-app state as the identity map records it, for the read-only access extension. */
export interface AppAccess {
  readonly app: string;
  readonly role?: string;
  readonly state: string;
  readonly pendingTask?: string;
}

export interface AccessReader {
  ofUsers(userIds: readonly string[]): Map<string, AppAccess[]>;
}

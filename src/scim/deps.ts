/** What the SCIM handlers need, passed in by the composition root (no module-level state). */
import type { AuditEvent, AuditLog } from "../db/audit.js";
import type { Directory } from "../db/directory.js";
import type { RequestContext } from "./protocol.js";

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

export interface ScimDeps {
  readonly directory: Directory;
  readonly audit: AuditLog;
  readonly jobs: ProvisioningQueue;
  readonly access: AccessReader;
}

export function auditEvent(
  ctx: RequestContext,
  action: string,
  resourceType: "User" | "Group",
  resourceId: string,
  before: unknown,
  after: unknown,
): AuditEvent {
  return { actor: ctx.actor, requestId: ctx.requestId, action, resourceType, resourceId, before, after };
}

/** What the SCIM handlers need, passed in by the composition root (no module-level state). */
import type { AccessReader, ProvisioningQueue } from "../domain/readers.js";
import type { AuditEvent, AuditLog } from "../db/audit.js";
import type { Directory } from "../db/directory.js";
import type { Clock } from "../clock.js";
import type { RequestContext } from "./protocol.js";


export interface ScimDeps {
  readonly directory: Directory;
  readonly audit: AuditLog;
  readonly jobs: ProvisioningQueue;
  readonly access: AccessReader;
  /**
   * Called after a group was created, renamed, replaced or deleted (committed), so rules can be
   * checked against the directory again (provisioning/rule-watch.ts). Membership changes do not call it.
   */
  readonly groupsChanged?: () => void;
  /** Byte budget of a list page's resources (config maxResponseBytes); none when absent. */
  readonly maxResponseBytes?: number;
  /** Issues and expires paging cursors (cursor.ts). */
  readonly clock: Clock;
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

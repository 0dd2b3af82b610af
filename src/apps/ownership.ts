/**
 * One owner per app account (docs/provisioning.md): a connector about to adopt an account it found
 * by email asks the worker's read-only view who holds it, and refuses when it is someone else.
 * The UNIQUE index on the identity map is the backstop; this check keeps the app from being
 * written to at all.
 */
import { ConnectorError } from "../domain/connector-error.js";
import type { ApplyContext } from "../domain/connector.js";

export function refuseOwned(ctx: ApplyContext, app: string, externalId: string, what: string): void {
  const owner = ctx.ownerOf(externalId);
  if (!owner) return;
  throw new ConnectorError({
    app,
    kind: "conflict",
    retryable: false,
    owner: { userId: owner.userId, externalId },
    detail: `${what} belongs to another user of the bridge (${owner.userName ?? owner.userId}); it is not adopted`,
  });
}

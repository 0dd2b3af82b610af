/**
 * The Huntress template's roles in the API's terms, and the words a manual task starts with when
 * the API could not do the work. In the memberships API the portal's Account Admin is
 * `Admin` and Standard User is `User` (docs/vendor-facts.md, Huntress).
 */
import type { ConnectorError } from "../../domain/connector-error.js";
import type { WritablePermission } from "./wire.js";

/** Keyed by the built-in huntress template's role names (admin = Account Admin, standard = Standard User). */
const PERMISSIONS_OF_ROLE: Readonly<Record<string, WritablePermission>> = { admin: "Admin", standard: "User" };

export function permissionsOf(role: string): WritablePermission {
  const p = PERMISSIONS_OF_ROLE[role];
  // A huntress app always has the huntress template (./app-type.ts), whose roles are listed above.
  if (p === undefined) throw new Error(`the Huntress API has no permissions for role "${role}"`);
  return p;
}

/** The template role a membership's permissions stand for; null for labels the template has no role for (Read-only, Finance...). */
export function roleOf(permissions: string): string | null {
  return Object.entries(PERMISSIONS_OF_ROLE).find(([, p]) => p === permissions)?.[0] ?? null;
}

/** No API call can do this: the reference has no endpoint for pending invitations (they have no id). */
export const PENDING_INVITATION =
  "The Huntress API cannot withdraw a pending invitation (the invitee has not accepted it yet, and invitations have no id): do it by hand.";

/**
 * The first step of the manual task that replaces an API call: what the API said, in a sentence a
 * reviewer can act on. Never holds a secret (ConnectorError texts are scrubbed).
 */
export function fallbackReason(e: ConnectorError): string {
  const tries = e.attempts > 1 ? `, ${e.attempts} attempts` : "";
  if (e.status === 401) return "The Huntress API did not accept the API key and secret (401; check HUNTRESS_API_KEY and HUNTRESS_API_SECRET): do it by hand.";
  if (e.status === 403) return "The Huntress API refused this key (403): do it by hand.";
  if (e.status === 404) return "The Huntress API could not find the account or the membership (404): do it by hand.";
  if (e.status === 429) return `The Huntress API kept refusing requests over its rate limit (429${tries}): do it by hand.`;
  if (e.kind === "timeout") return `The Huntress API did not answer in time (timeout${tries}): do it by hand.`;
  if (e.kind === "network") return `The Huntress API could not be reached (network error${tries}): do it by hand.`;
  if (e.kind === "response") return "The Huntress API gave an answer the bridge cannot read: do it by hand.";
  if (e.status !== null && e.status >= 500) return `The Huntress API kept failing (${e.status}${tries}): do it by hand.`;
  return `The Huntress API rejected the request (${e.status ?? e.kind}: ${e.detail}): do it by hand.`;
}

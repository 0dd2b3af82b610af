/**
 * The Huntress memberships API on the wire (the Huntress API Reference, api.huntress.io/docs), read with
 * zod once at the edge and turned into the client's own types. Reads are lenient where the
 * reference is loose (extra fields, a permissions label added later, `pagination` without a
 * token); writes only send what the reference allows.
 */
import { z } from "zod";

/**
 * MembershipCreationParameters.permissions and MembershipUpdateParameters.permissions: the labels a
 * client may grant. (Membership.permissions also lists `Admin-Read-only`, which can only be read.)
 */
export const WRITABLE_PERMISSIONS = ["Admin", "Security Engineer", "User", "Read-only", "Finance", "Marketing", "Provisioner"] as const;
export type WritablePermission = (typeof WRITABLE_PERMISSIONS)[number];

/** An account or organization reference ({id, name} in the reference's examples). */
const scopeRef = z.looseObject({ id: z.number().int(), name: z.string().nullish() });

/** definitions.Membership: "a given membership will only have one or the other" of account and organization. */
const membershipWire = z.looseObject({
  id: z.number().int(),
  permissions: z.string(),
  account: scopeRef.nullish(),
  organization: scopeRef.nullish(),
  user: z.looseObject({ id: z.number().int().nullish(), email: z.string(), name: z.string().nullish() }),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});

/** definitions.MemberInvitation: no id; the user has an email and a name only. */
const invitationWire = z.looseObject({
  permissions: z.string(),
  account: scopeRef.nullish(),
  organization: scopeRef.nullish(),
  user: z.looseObject({ email: z.string(), name: z.string().nullish() }),
});

export interface HuntressScope {
  readonly kind: "account" | "organization";
  readonly id: number;
  readonly name: string | null;
}

export interface HuntressMembership {
  /** The membership's id (not the user's): what PATCH and DELETE take. */
  readonly id: number;
  readonly permissions: string;
  /** The account or organization it belongs to; null if Huntress named neither. */
  readonly scope: HuntressScope | null;
  readonly user: { readonly id: number | null; readonly email: string; readonly name: string | null };
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export interface HuntressInvitation {
  readonly email: string;
  readonly name: string | null;
  readonly permissions: string;
  readonly scope: HuntressScope | null;
}

function scopeOf(w: { account?: { id: number; name?: string | null | undefined } | null | undefined; organization?: { id: number; name?: string | null | undefined } | null | undefined }): HuntressScope | null {
  if (w.organization) return { kind: "organization", id: w.organization.id, name: w.organization.name ?? null };
  if (w.account) return { kind: "account", id: w.account.id, name: w.account.name ?? null };
  return null;
}

const membership = membershipWire.transform(
  (w): HuntressMembership => ({
    id: w.id,
    permissions: w.permissions,
    scope: scopeOf(w),
    user: { id: w.user.id ?? null, email: w.user.email, name: w.user.name ?? null },
    createdAt: w.created_at ?? null,
    updatedAt: w.updated_at ?? null,
  }),
);

/** POST 201: `{"member_invitation": {...}}`. */
export const invitationEnvelope = z
  .looseObject({ member_invitation: invitationWire })
  .transform((w): HuntressInvitation => ({ email: w.member_invitation.user.email, name: w.member_invitation.user.name ?? null, permissions: w.member_invitation.permissions, scope: scopeOf(w.member_invitation) }));

/** GET /{id} 200, PATCH 200, DELETE 202: `{"membership": {...}}`. */
export const membershipEnvelope = z.looseObject({ membership: membership }).transform((w) => w.membership);

/** GET 200: `{"memberships": [...], "pagination": {"next_page_token", "next_page_url"}}`. */
export const membershipPage = z
  .looseObject({
    memberships: z.array(membership),
    pagination: z.looseObject({ next_page_token: z.string().nullish(), next_page_url: z.string().nullish() }).nullish(),
  })
  .transform((w) => ({ memberships: w.memberships, nextPageToken: w.pagination?.next_page_token || null }));

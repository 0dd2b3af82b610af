/**
 * The Huntress simulator's data and the rules Huntress applies when it is written: an account
 * (with its organizations, and the accounts a reseller key manages), users, memberships and
 * pending invitations held in memory. Handlers parse the wire (routes.ts); this file applies it.
 */
import type { Clock } from "../../clock.js";
import { SimHttpError, type Permission, type SimInvitation, type SimMembership, type SimScope, type SimUser, type WritablePermission } from "./model.js";

/** GET /v1/memberships `sort_field` enum (default "id"). */
export const SORT_FIELDS = ["id", "user_id", "created_at", "updated_at"] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface ListQuery {
  readonly limit: number;
  readonly pageToken: string | undefined;
  readonly sortField: SortField;
  readonly sortDirection: "asc" | "desc";
  readonly organizationId: number | undefined;
  readonly userId: number | undefined;
  readonly permissions: Permission | undefined;
}

export interface Invite {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly permissions: WritablePermission;
  readonly organizationId: number | undefined;
}

const fold = (email: string): string => email.trim().toLowerCase();

/** A deliberately shallow email check, enough to answer 422 to something that is plainly not one. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class SimState {
  /** The account the API credentials belong to (the reference's example account). */
  readonly account: SimScope;
  /** Accounts a reseller key reaches under /v1/accounts/{account_id}/... (tag "Reseller"). */
  readonly managedAccounts = new Map<number, SimScope>();
  readonly organizations = new Map<number, SimScope>();
  readonly users = new Map<number, SimUser>();
  readonly memberships = new Map<number, SimMembership>();
  readonly invitations: SimInvitation[] = [];
  private nextMembershipId = 1;
  private nextUserId = 90210;
  private nextScopeId = 5678;

  constructor(
    private readonly clock: Clock,
    account: { id: number; name: string } = { id: 1234, name: "Exemplary Accounting, LLC" },
  ) {
    this.account = { kind: "account", id: account.id, name: account.name, accountId: account.id };
  }

  /** A reseller's managed account (reachable as /v1/accounts/{id}/memberships). */
  addManagedAccount(name: string, id = this.nextScopeId++): SimScope {
    const scope: SimScope = { kind: "account", id, name, accountId: id };
    this.managedAccounts.set(id, scope);
    return scope;
  }

  addOrganization(name: string, accountId = this.account.id, id = this.nextScopeId++): SimScope {
    const scope: SimScope = { kind: "organization", id, name, accountId };
    this.organizations.set(id, scope);
    return scope;
  }

  /**
   * The account a request acts on: the credentials' own account, or a managed one named in the
   * path. Reference, 404 on /v1/accounts/{account_id}/...: "Record not found (likely the account)".
   */
  accountFor(accountId: number | undefined): SimScope {
    if (accountId === undefined || accountId === this.account.id) return this.account;
    const managed = this.managedAccounts.get(accountId);
    if (!managed) throw new SimHttpError(404, "Record not found");
    return managed;
  }

  private userByEmail(email: string): SimUser | undefined {
    return [...this.users.values()].find((u) => fold(u.email) === fold(email));
  }

  private scopeOf(account: SimScope, organizationId: number | undefined): SimScope {
    if (organizationId === undefined) return account;
    const org = this.organizations.get(organizationId);
    // POST /v1/memberships 404: "Organization not found."
    if (!org || org.accountId !== account.id) throw new SimHttpError(404, "Organization not found");
    return org;
  }

  private sameScope(a: SimScope, b: SimScope): boolean {
    return a.kind === b.kind && a.id === b.id;
  }

  /**
   * POST /v1/memberships. Not in the reference, so chosen here and kept unsurprising: inviting an
   * email that already holds a membership in the same place answers 422 ("Invalid creation
   * parameters"); inviting an email whose invitation is still pending sends it again with the new
   * names and permissions (one pending invitation per email and place).
   */
  invite(account: SimScope, p: Invite): SimInvitation {
    const scope = this.scopeOf(account, p.organizationId);
    if (!EMAIL.test(p.email)) throw new SimHttpError(422, "Invalid creation parameters: email is invalid");
    const user = this.userByEmail(p.email);
    if (user && [...this.memberships.values()].some((m) => m.userId === user.id && this.sameScope(m.scope, scope))) {
      throw new SimHttpError(422, `Invalid creation parameters: ${p.email} is already a member`);
    }
    const now = this.clock.now();
    const pending = this.invitations.find((i) => fold(i.email) === fold(p.email) && this.sameScope(i.scope, scope));
    if (pending) {
      Object.assign(pending, { firstName: p.firstName, lastName: p.lastName, permissions: p.permissions, invitedAt: now });
      return pending;
    }
    const invitation: SimInvitation = { email: p.email, firstName: p.firstName, lastName: p.lastName, permissions: p.permissions, scope, invitedAt: now };
    this.invitations.push(invitation);
    return invitation;
  }

  /**
   * The invitee accepts (a test helper: there is no API for it). Every pending invitation of the
   * email (optionally only the one for `scopeId`) becomes a membership with its permissions.
   */
  acceptInvitation(email: string, scopeId?: number): SimMembership[] {
    const accepted = this.invitations.filter((i) => fold(i.email) === fold(email) && (scopeId === undefined || i.scope.id === scopeId));
    if (accepted.length === 0) throw new Error(`no pending Huntress invitation for ${email}`);
    const out = accepted.map((i) => this.addMembership(i.email, `${i.firstName} ${i.lastName}`.trim(), i.permissions, i.scope));
    for (const i of accepted) this.invitations.splice(this.invitations.indexOf(i), 1);
    return out;
  }

  /** A membership that already exists (e.g. the account owner), without an invitation. */
  seedMembership(p: { email: string; name?: string; permissions?: Permission; organizationId?: number; accountId?: number }): SimMembership {
    const account = p.accountId === undefined ? this.account : this.accountFor(p.accountId);
    return this.addMembership(p.email, p.name ?? p.email.split("@")[0]!, p.permissions ?? "User", this.scopeOf(account, p.organizationId));
  }

  private addMembership(email: string, name: string, permissions: Permission, scope: SimScope): SimMembership {
    let user = this.userByEmail(email);
    if (!user) {
      user = { id: this.nextUserId++, email, name };
      this.users.set(user.id, user);
    }
    const now = this.clock.now();
    const m: SimMembership = { id: this.nextMembershipId++, permissions, scope, userId: user.id, createdAt: now, updatedAt: now };
    this.memberships.set(m.id, m);
    return m;
  }

  /** A membership of the account (or one of its organizations), else 404. */
  find(account: SimScope, id: number): SimMembership {
    const m = this.memberships.get(id);
    // DELETE 404: "Membership not found, possibly because it has already been deleted."
    if (!m || m.scope.accountId !== account.id) throw new SimHttpError(404, "Membership not found");
    return m;
  }

  /**
   * docs/vendor-facts.md (Huntress): an account must always keep at least one Account Admin. The reference
   * has a 422 for PATCH ("Something prevented the update.") and DELETE ("Failed to delete
   * membership"); this is what the simulator answers when the last account Admin would go.
   */
  private isLastAdmin(m: SimMembership): boolean {
    if (m.scope.kind !== "account" || m.permissions !== "Admin") return false;
    return ![...this.memberships.values()].some((o) => o.id !== m.id && o.scope.kind === "account" && o.scope.id === m.scope.id && o.permissions === "Admin");
  }

  update(account: SimScope, id: number, permissions: WritablePermission): SimMembership {
    const m = this.find(account, id);
    if (permissions !== "Admin" && this.isLastAdmin(m)) throw new SimHttpError(422, "Something prevented the update: the account must keep at least one Admin");
    if (m.permissions !== permissions) {
      m.permissions = permissions;
      m.updatedAt = this.clock.now();
    }
    return m;
  }

  remove(account: SimScope, id: number): SimMembership {
    const m = this.find(account, id);
    if (this.isLastAdmin(m)) throw new SimHttpError(422, "Failed to delete membership: the account must keep at least one Admin");
    this.memberships.delete(id);
    return m;
  }

  /**
   * GET /v1/memberships: "returns both account and organization memberships, but if an
   * organization ID is supplied, it will return only organization memberships". Paging is keyset:
   * the token names the last item's sort value and id (the reference's example token is a
   * base64 timestamp), so a membership deleted between two pages does not shift the next one.
   */
  list(account: SimScope, q: ListQuery): { page: SimMembership[]; nextToken: string | null } {
    const key = (m: SimMembership): number =>
      q.sortField === "id" ? m.id : q.sortField === "user_id" ? m.userId : q.sortField === "created_at" ? m.createdAt.getTime() : m.updatedAt.getTime();
    const sign = q.sortDirection === "asc" ? 1 : -1;
    const order = (a: { k: number; id: number }, b: { k: number; id: number }): number => sign * (a.k - b.k || a.id - b.id);
    const all = [...this.memberships.values()]
      .filter((m) => m.scope.accountId === account.id)
      .filter((m) => q.organizationId === undefined || (m.scope.kind === "organization" && m.scope.id === q.organizationId))
      .filter((m) => q.userId === undefined || m.userId === q.userId)
      .filter((m) => q.permissions === undefined || m.permissions === q.permissions)
      .map((m) => ({ m, k: key(m), id: m.id }))
      .sort(order);
    const after = q.pageToken === undefined ? undefined : decodeToken(q.pageToken);
    const start = after === undefined ? 0 : all.findIndex((x) => order(x, after) > 0);
    const rest = start < 0 ? [] : all.slice(start);
    const page = rest.slice(0, q.limit);
    const last = page.at(-1);
    return { page: page.map((x) => x.m), nextToken: rest.length > q.limit && last ? encodeToken(last.k, last.id) : null };
  }

  user(id: number): SimUser {
    return this.users.get(id)!;
  }
}

function encodeToken(k: number, id: number): string {
  return Buffer.from(`${k}:${id}`, "utf8").toString("base64url");
}

function decodeToken(token: string): { k: number; id: number } {
  const m = /^(-?\d+):(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw new SimHttpError(400, "page_token is invalid");
  return { k: Number(m[1]), id: Number(m[2]) };
}

/**
 * The Huntress memberships API as the Huntress API Reference describes it (api.huntress.io/docs,
 * paths /v1/memberships, /v1/memberships/{id} and their /v1/accounts/{account_id}/... twins).
 * Validation messages follow Grape's wording ("email is missing", "limit does not have a valid
 * value"), joined with ", " into one 400, as a Grape API answers.
 */
import type { Request, Response } from "express";
import { huntressTime, SimHttpError, WRITABLE_PERMISSIONS, type Permission, type SimInvitation, type SimMembership, type SimScope, type WritablePermission } from "./model.js";
import { SORT_FIELDS, type Invite, type ListQuery, type SimState } from "./state.js";

/** The account a request acts on: /v1/accounts/{account_id}/... or the credentials' own. */
function accountOf(req: Request, state: SimState): SimScope {
  const raw = req.params["account_id"];
  if (raw === undefined) return state.accountFor(undefined);
  if (typeof raw !== "string" || !/^\d+$/.test(raw)) throw new SimHttpError(400, "account_id is invalid");
  return state.accountFor(Number(raw));
}

function membershipId(req: Request): number {
  const raw = req.params["id"];
  // path parameter `id`: integer, int32.
  if (typeof raw !== "string" || !/^\d+$/.test(raw)) throw new SimHttpError(400, "id is invalid");
  return Number(raw);
}

/** express 5 re-parses req.query on every access: read it once into plain strings. */
function queryOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) if (typeof v === "string") out[k] = v;
  return out;
}

function intOf(value: string | undefined, name: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) {
    problems.push(`${name} is invalid`);
    return undefined;
  }
  return Number(value);
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string, problems: string[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    problems.push(`${name} does not have a valid value`);
    return undefined;
  }
  return value as T;
}

/** The query `permissions` filter enum (the writable labels; Admin-Read-only is not listed there). */
const FILTER_PERMISSIONS: readonly Permission[] = WRITABLE_PERMISSIONS;

/** GET /v1/memberships query parameters: limit (1..500, default 10), page_token, sort_field, sort_direction, filters. */
function listQuery(req: Request): ListQuery {
  const q = queryOf(req);
  const problems: string[] = [];
  const limit = intOf(q["limit"], "limit", problems) ?? 10;
  if (q["limit"] !== undefined && problems.length === 0 && (limit < 1 || limit > 500)) problems.push("limit does not have a valid value");
  const out: ListQuery = {
    limit,
    pageToken: q["page_token"] === "" ? undefined : q["page_token"],
    sortField: oneOf(q["sort_field"], SORT_FIELDS, "sort_field", problems) ?? "id",
    sortDirection: oneOf(q["sort_direction"], ["asc", "desc"] as const, "sort_direction", problems) ?? "desc",
    organizationId: intOf(q["organization_id"], "organization_id", problems),
    userId: intOf(q["user_id"], "user_id", problems),
    permissions: oneOf(q["permissions"], FILTER_PERMISSIONS, "permissions", problems),
  };
  if (problems.length > 0) throw new SimHttpError(400, problems.join(", "));
  return out;
}

function bodyOf(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new SimHttpError(400, "the request body must be a JSON object");
  return body as Record<string, unknown>;
}

function requiredString(body: Record<string, unknown>, name: string, problems: string[]): string {
  const v = body[name];
  if (v === undefined || v === null || v === "") problems.push(`${name} is missing`);
  else if (typeof v !== "string") problems.push(`${name} is invalid`);
  return typeof v === "string" ? v : "";
}

function writablePermissions(body: Record<string, unknown>, problems: string[]): WritablePermission {
  const v = body["permissions"];
  if (v === undefined || v === null) problems.push("permissions is missing");
  else if (typeof v !== "string" || !(WRITABLE_PERMISSIONS as readonly string[]).includes(v)) problems.push("permissions does not have a valid value");
  return v as WritablePermission;
}

/** definitions.MembershipCreationParameters: email, first_name, last_name, permissions required; organization_id optional. */
function inviteOf(req: Request): Invite {
  const body = bodyOf(req);
  const problems: string[] = [];
  const email = requiredString(body, "email", problems);
  const firstName = requiredString(body, "first_name", problems);
  const lastName = requiredString(body, "last_name", problems);
  const permissions = writablePermissions(body, problems);
  const org = body["organization_id"];
  if (org !== undefined && org !== null && !Number.isInteger(org)) problems.push("organization_id is invalid");
  if (problems.length > 0) throw new SimHttpError(400, problems.join(", "));
  return { email, firstName, lastName, permissions, organizationId: typeof org === "number" ? org : undefined };
}

/** "a given membership will only have one or the other": `account` or `organization`, never both. */
function scopeField(s: SimScope): Record<string, { id: number; name: string }> {
  return { [s.kind]: { id: s.id, name: s.name } };
}

/** definitions.Membership. */
export function renderMembership(m: SimMembership, state: SimState): Record<string, unknown> {
  const u = state.user(m.userId);
  return {
    id: m.id,
    permissions: m.permissions,
    ...scopeField(m.scope),
    user: { id: u.id, email: u.email, name: u.name },
    created_at: huntressTime(m.createdAt),
    updated_at: huntressTime(m.updatedAt),
  };
}

/** definitions.MemberInvitation: no id (it is not a membership yet); user without an id. */
export function renderInvitation(i: SimInvitation): Record<string, unknown> {
  return { permissions: i.permissions, ...scopeField(i.scope), user: { email: i.email, name: `${i.firstName} ${i.lastName}`.trim() } };
}

/** GET: 200 `{memberships: [...], pagination: {next_page_token, next_page_url}}` (both `required`). */
export function listMemberships(state: SimState) {
  return (req: Request, res: Response): void => {
    const account = accountOf(req, state);
    const q = listQuery(req);
    const { page, nextToken } = state.list(account, q);
    // Pagination: next_page_url "Only displays when another page can be accessed", carrying the
    // page token and the limit of the original request.
    const pagination =
      nextToken === null
        ? {}
        : { next_page_token: nextToken, next_page_url: `${req.protocol}://${req.get("host") ?? ""}${req.path}?page_token=${nextToken}&limit=${q.limit}` };
    res.json({ memberships: page.map((m) => renderMembership(m, state)), pagination });
  };
}

/** GET /{id}: 200 `{membership: {...}}`. */
export function getMembership(state: SimState) {
  return (req: Request, res: Response): void => {
    res.json({ membership: renderMembership(state.find(accountOf(req, state), membershipId(req)), state) });
  };
}

/** POST: 201 `{member_invitation: {...}}`. */
export function createMembership(state: SimState) {
  return (req: Request, res: Response): void => {
    const account = accountOf(req, state);
    res.status(201).json({ member_invitation: renderInvitation(state.invite(account, inviteOf(req))) });
  };
}

/** PATCH /{id} `{permissions}`: 200 `{membership: {...}}`. */
export function updateMembership(state: SimState) {
  return (req: Request, res: Response): void => {
    const account = accountOf(req, state);
    const id = membershipId(req);
    const problems: string[] = [];
    const permissions = writablePermissions(bodyOf(req), problems);
    if (problems.length > 0) throw new SimHttpError(400, problems.join(", "));
    res.json({ membership: renderMembership(state.update(account, id, permissions), state) });
  };
}

/** DELETE /{id}: 202 `{membership: {...}}` ("Does not delete the user associated with the membership"). */
export function deleteMembership(state: SimState) {
  return (req: Request, res: Response): void => {
    const account = accountOf(req, state);
    const removed = state.remove(account, membershipId(req));
    res.status(202).json({ membership: renderMembership(removed, state) });
  };
}

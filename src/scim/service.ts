/**
 * Routes a ScimRequest to its handler and turns every failure into an RFC 7644 §3.12 error.
 * Paths and methods follow RFC 7644 §3.2; anything else is a SCIM 404, or a 405 with `Allow`.
 */
import { BridgeError, isBridgeError } from "../errors.js";
import type { ScimDeps } from "./deps.js";
import { resourceTypes, schemas, serviceProviderConfig } from "./discovery.js";
import * as groups from "./groups.js";
import { decodeCursor, encodeCursor, queryFingerprint, type Cursor } from "./cursor.js";
import { listResponseJson, parseListQuery, parseSearchRequest, type ListParams } from "./list-query.js";
import { attributeNames, definesAttribute } from "./projection.js";
import { errorFromBridgeError, scimError, type RequestContext, type ScimRequest, type ScimResponse } from "./protocol.js";
import { groupResource, resolvePath, userResource, type ResourceSchema } from "./schema.js";
import * as users from "./users.js";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
type Endpoint = Partial<Record<Method, () => ScimResponse>>;

export function handleScim(deps: ScimDeps, request: ScimRequest): ScimResponse {
  const req = { ...request, segments: canonicalSegments(request.segments) };
  try {
    const endpoint = endpointOf(deps, req);
    const handler = endpoint[req.method as Method];
    if (handler) return handler();
    const allowed = Object.keys(endpoint).join(", ");
    const r = scimError("methodNotAllowed", `${req.method} is not supported on /${req.segments.join("/")}; allowed: ${allowed}`);
    // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
    return { ...r, headers: { ...r.headers, Allow: allowed } };
  } catch (e: unknown) {
    if (isBridgeError(e)) return errorFromBridgeError(e);
    throw e;
  }
}

/** The endpoints of RFC 7644 §3.2 this provider knows, as templates below the SCIM base. */
export type ScimRoute =
  | "/Users"
  | "/Users/.search"
  | "/Users/:id"
  | "/Groups"
  | "/Groups/.search"
  | "/Groups/:id"
  | "/.search"
  | "/ServiceProviderConfig"
  | "/ResourceTypes"
  | "/ResourceTypes/:id"
  | "/Schemas"
  | "/Schemas/:id"
  | "/Bulk"
  | "/Me";

const ENDPOINT_NAMES = new Map(
  ["Users", "Groups", ".search", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me"].map((n) => [n.toLowerCase(), n]),
);

/**
 * The path with its endpoint names spelled as RFC 7644 §3.2 spells them (`/users` → `/Users`,
 * `/Users/.SEARCH` → `/Users/.search`). Attribute names are case-insensitive (RFC 7643 §2.1) and
 * admins' tools send endpoints in any case, so endpoints are read the same way; ids are left as sent.
 */
export function canonicalSegments(segments: readonly string[]): string[] {
  const [first, second, ...rest] = segments;
  if (first === undefined) return [];
  const name = ENDPOINT_NAMES.get(first.toLowerCase()) ?? first;
  if (second === undefined) return [name];
  const isSearch = (name === "Users" || name === "Groups") && second.toLowerCase() === ".search";
  return [name, isSearch ? ".search" : second, ...rest];
}

/**
 * The endpoint a path names, or undefined (a SCIM 404). Dispatch below switches on it, and the
 * request metrics label with it: a template never carries an id, so the label set stays bounded.
 */
export function scimRouteOf(segments: readonly string[]): ScimRoute | undefined {
  const [first, second, third] = canonicalSegments(segments);
  if (third !== undefined) return undefined;
  switch (first) {
    case "Users":
    case "Groups":
      return second === undefined ? `/${first}` : second === ".search" ? `/${first}/.search` : `/${first}/:id`;
    case "ResourceTypes":
    case "Schemas":
      return second === undefined ? `/${first}` : `/${first}/:id`;
    case ".search":
    case "ServiceProviderConfig":
    case "Bulk":
    case "Me":
      return second === undefined ? `/${first}` : undefined;
    default:
      return undefined;
  }
}

function endpointOf(deps: ScimDeps, req: ScimRequest): Endpoint {
  const [first, second] = req.segments;
  const base = req.context.baseUrl;
  const ctx = req.context;
  const h = first === "Users" ? userHandlers : groupHandlers;
  const route = scimRouteOf(req.segments);
  switch (route) {
    case "/Users/.search":
    case "/Groups/.search":
      return { POST: () => h.list(deps, parseSearchRequest(req.body), ctx) };
    case "/Users":
    case "/Groups":
      return { GET: () => h.list(deps, req.query as ListParams, ctx), POST: () => h.create(deps, req) };
    case "/Users/:id":
    case "/Groups/:id": {
      const id = second!;
      return {
        GET: () => h.get(deps, req, id),
        PUT: () => h.replace(deps, req, id),
        PATCH: () => h.patch(deps, req, id),
        DELETE: () => h.delete(deps, req, id),
      };
    }
    case "/.search":
      return { POST: () => searchAll(deps, parseSearchRequest(req.body), ctx) };
    case "/ServiceProviderConfig":
      return { GET: () => serviceProviderConfig(base) };
    case "/ResourceTypes":
    case "/ResourceTypes/:id":
      return { GET: () => resourceTypes(base, second) };
    case "/Schemas":
    case "/Schemas/:id":
      return { GET: () => schemas(base, second) };
    case "/Bulk":
    case "/Me":
      throw new BridgeError("notImplemented", `${route} is not supported by this service provider`);
    case undefined:
      throw new BridgeError("notFound", `No such endpoint /${req.segments.join("/")}: the endpoints are /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas`);
  }
}

const userHandlers = {
  list: users.listUsers,
  create: users.createUser,
  get: users.getUser,
  replace: users.replaceUser,
  patch: users.patchUser,
  delete: users.deleteUser,
};

const groupHandlers = {
  list: groups.listGroups,
  create: groups.createGroup,
  get: groups.getGroup,
  replace: groups.replaceGroup,
  patch: groups.patchGroup,
  delete: groups.deleteGroup,
};

/** The attribute names of `names` that `resource` defines. */
function namesFor(resource: ResourceSchema, names: string | readonly string[] | undefined): string[] | undefined {
  if (names === undefined) return undefined;
  return attributeNames(names).filter((n) => definesAttribute(resource, n));
}

/**
 * Root-level search (RFC 7644 §3.4.3) over Users then Groups, paged over the concatenation in a
 * stable order. An attribute one resource type lacks simply does not apply to it: a filter that
 * only makes sense for Users (`userName eq "x"`) finds no Groups, rather than failing the search.
 * A filter or attribute list that fits neither type is still a 400. `sortBy` sorts within each
 * type; a type without the attribute sorts as resources without a value. When both types define it
 * (displayName, externalId, meta.*), Users still come before Groups: the two are not merged.
 */
function searchAll(deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  let sides = [
    { resource: userResource, page: users.userPage, walk: users.userWalk },
    { resource: groupResource, page: groups.groupPage, walk: groups.groupWalk },
  ];
  for (const names of [params.attributes, params.excludedAttributes]) {
    const unknown = attributeNames(names).find((n) => !sides.some((s) => definesAttribute(s.resource, n)));
    if (unknown !== undefined) throw new BridgeError("invalidValue", `unknown attribute "${unknown}"`);
  }
  const { sortBy } = params;
  const sorts = (resource: ResourceSchema) => !sortBy || resolvePath(resource, sortBy) !== undefined;
  if (sortBy) {
    if (!sides.some((s) => sorts(s.resource))) throw new BridgeError("invalidValue", `sortBy: unknown attribute "${sortBy}"`);
    // RFC 7644 §3.4.2.3: resources without a value for sortBy come last ascending, first descending.
    // A type that lacks the attribute has no value on any of its resources, so it moves as one block.
    const descending = params.sortOrder?.toLowerCase() === "descending";
    const [withIt, without] = [sides.filter((s) => sorts(s.resource)), sides.filter((s) => !sorts(s.resource))];
    sides = descending ? [...without, ...withIt] : [...withIt, ...without];
  }
  // Paging parameters are validated and bounded exactly as for a single resource type.
  const { startIndex, count } = parseListQuery(userResource, { startIndex: params.startIndex, count: params.count, cursor: params.cursor });
  if (params.cursor !== undefined) return searchAllByCursor(deps, params, sides, sorts, count, ctx);
  let firstError: BridgeError | undefined;
  let failures = 0;
  let skip = startIndex - 1;
  let room = count;
  let total = 0;
  // One byte budget over both types: Groups get what Users left of it.
  let budget = deps.maxResponseBytes ?? Infinity;
  const resources: string[] = [];
  for (const side of sides) {
    const sideParams = {
      ...params,
      sortBy: sorts(side.resource) ? sortBy : undefined,
      attributes: namesFor(side.resource, params.attributes),
      excludedAttributes: namesFor(side.resource, params.excludedAttributes),
    };
    let sideTotal: number;
    try {
      sideTotal = side.page(deps, { ...sideParams, count: 0 }, ctx).total;
    } catch (e: unknown) {
      if (!(isBridgeError(e) && e.code === "invalidFilter")) throw e;
      firstError ??= e;
      failures++;
      continue;
    }
    total += sideTotal;
    if (room > 0 && skip < sideTotal) {
      const asked = Math.min(room, sideTotal - skip);
      const page = side.page(deps, { ...sideParams, startIndex: skip + 1, count: asked }, ctx, { bytes: budget, served: resources.length });
      resources.push(...page.resources);
      room -= page.resources.length;
      budget -= page.bytes;
      // A page cut short by the budget ends the search: nothing after it may jump ahead.
      if (page.resources.length < asked) room = 0;
    }
    skip = Math.max(0, skip - sideTotal);
  }
  if (firstError && failures === sides.length) throw firstError;
  return { status: 200, json: listResponseJson(total, startIndex, resources) };
}

type Side = { resource: ResourceSchema; walk: typeof users.userWalk };

/**
 * Root-level search paged by cursor (RFC 9865 §3): the same concatenation as above, walked by
 * keyset within each type; the cursor names the type its position belongs to. Only forward:
 * no previousCursor here (RFC 9865 §2 makes it optional).
 */
function searchAllByCursor(deps: ScimDeps, params: ListParams, sides: readonly Side[], sorts: (r: ResourceSchema) => boolean, count: number, ctx: RequestContext): ScimResponse {
  const fingerprint = queryFingerprint("root", params);
  const now = deps.clock.now();
  const cursor = decodeCursor(params.cursor, fingerprint, now);
  if (cursor.before) throw new BridgeError("invalidCursor", "cursor is invalid: root-level search pages forward only");
  const from = cursor.side ? sides.findIndex((s) => s.resource.name === cursor.side) : 0;
  if (from < 0) throw new BridgeError("invalidCursor", "cursor is invalid: it names no resource type of this search");
  let firstError: BridgeError | undefined;
  let failures = 0;
  let total = 0;
  let room = count;
  let budget = deps.maxResponseBytes ?? Infinity;
  let next: Cursor | undefined;
  const resources: string[] = [];
  for (const [i, side] of sides.entries()) {
    const sideParams = {
      filter: params.filter,
      sortBy: sorts(side.resource) ? params.sortBy : undefined,
      sortOrder: params.sortOrder,
      attributes: namesFor(side.resource, params.attributes),
      excludedAttributes: namesFor(side.resource, params.excludedAttributes),
    };
    const walked = i >= from && room > 0;
    let page;
    try {
      // A type before the cursor's, or after a full page, is only counted: a page of 0 reads no rows.
      page = side.walk(deps, { ...sideParams, count: walked ? room : 0 }, i === from ? cursor : { before: false }, ctx, { bytes: budget, served: resources.length });
    } catch (e: unknown) {
      if (!(isBridgeError(e) && e.code === "invalidFilter")) throw e;
      firstError ??= e;
      failures++;
      continue;
    }
    total += page.total;
    if (!walked) {
      if (i > from && next === undefined && page.total > 0) next = { before: false, side: side.resource.name as "User" | "Group" };
      continue;
    }
    resources.push(...page.resources);
    room -= page.resources.length;
    budget -= page.bytes;
    const at = page.last ?? (i === from ? cursor.at : undefined);
    // A type walked to its end leaves the room to the next type, read from its start.
    if (page.more) {
      next = { before: false, side: side.resource.name as "User" | "Group", ...(at ? { at } : {}) };
      room = 0;
    }
  }
  if (firstError && failures === sides.length) throw firstError;
  return { status: 200, json: listResponseJson(total, next ? { nextCursor: encodeCursor(fingerprint, next, now) } : {}, resources) };
}

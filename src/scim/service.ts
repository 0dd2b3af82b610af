/**
 * Routes a ScimRequest to its handler and turns every failure into an RFC 7644 §3.12 error.
 * Paths and methods follow RFC 7644 §3.2; anything else is a SCIM 404 or 405.
 */
import { BridgeError, isBridgeError } from "../errors.js";
import type { ScimDeps } from "./deps.js";
import { resourceTypes, schemas, serviceProviderConfig } from "./discovery.js";
import * as groups from "./groups.js";
import { listResponse, parseListQuery, parseSearchRequest, type ListParams } from "./list-query.js";
import { errorFromBridgeError, type RequestContext, type ScimRequest, type ScimResponse } from "./protocol.js";
import { groupResource, userResource } from "./schema.js";
import * as users from "./users.js";

export function handleScim(deps: ScimDeps, req: ScimRequest): ScimResponse {
  try {
    return route(deps, req);
  } catch (e: unknown) {
    if (isBridgeError(e)) return errorFromBridgeError(e);
    throw e;
  }
}

function notAllowed(req: ScimRequest): never {
  throw new BridgeError("methodNotAllowed", `${req.method} is not supported on /${req.segments.join("/")}`);
}

function route(deps: ScimDeps, req: ScimRequest): ScimResponse {
  const [first, second, third] = req.segments;
  const { method } = req;
  const base = req.context.baseUrl;
  if (third !== undefined) throw new BridgeError("notFound", `No such endpoint /${req.segments.join("/")}`);
  switch (first) {
    case "Users":
    case "Groups": {
      const isUsers = first === "Users";
      if (second === ".search") {
        if (method !== "POST") notAllowed(req);
        const params = parseSearchRequest(req.body);
        return isUsers ? users.listUsers(deps, params, req.context) : groups.listGroups(deps, params, req.context);
      }
      if (second === undefined) {
        if (method === "GET") {
          const params = req.query as ListParams;
          return isUsers ? users.listUsers(deps, params, req.context) : groups.listGroups(deps, params, req.context);
        }
        if (method === "POST") return isUsers ? users.createUser(deps, req) : groups.createGroup(deps, req);
        notAllowed(req);
      }
      switch (method) {
        case "GET":
          return isUsers ? users.getUser(deps, req, second) : groups.getGroup(deps, req, second);
        case "PUT":
          return isUsers ? users.replaceUser(deps, req, second) : groups.replaceGroup(deps, req, second);
        case "PATCH":
          return isUsers ? users.patchUser(deps, req, second) : groups.patchGroup(deps, req, second);
        case "DELETE":
          return isUsers ? users.deleteUser(deps, req, second) : groups.deleteGroup(deps, req, second);
        default:
          notAllowed(req);
      }
    }
    // falls through (notAllowed never returns)
    case ".search":
      if (second !== undefined) break;
      if (method !== "POST") notAllowed(req);
      return searchAll(deps, parseSearchRequest(req.body), req.context);
    case "ServiceProviderConfig":
      if (second !== undefined) break;
      if (method !== "GET") notAllowed(req);
      return serviceProviderConfig(base);
    case "ResourceTypes":
      if (method !== "GET") notAllowed(req);
      return resourceTypes(base, second);
    case "Schemas":
      if (method !== "GET") notAllowed(req);
      return schemas(base, second);
    case "Bulk":
    case "Me":
      throw new BridgeError("notImplemented", `/${first} is not supported by this service provider`);
  }
  throw new BridgeError("notFound", `No such endpoint /${req.segments.join("/")}`);
}

/**
 * Root-level search (RFC 7644 §3.4.3) across Users then Groups. The filter must make sense for
 * both resource types; paging runs over the concatenation, Users first, in a stable order.
 */
function searchAll(deps: ScimDeps, params: ListParams, ctx: RequestContext): ScimResponse {
  const uq = parseListQuery(userResource, params);
  const gq = parseListQuery(groupResource, params);
  const userTotal = deps.directory.countUsers(uq.where, uq.params);
  const groupTotal = deps.directory.countGroups(gq.where, gq.params);
  const offset = uq.startIndex - 1;
  const fromUsers = Math.max(0, Math.min(uq.count, userTotal - offset));
  const userPage = fromUsers === 0 ? [] : (users.listUsers(deps, { ...params, startIndex: uq.startIndex, count: fromUsers }, ctx).body as { Resources: unknown[] }).Resources;
  const groupCount = uq.count - userPage.length;
  const groupStart = Math.max(0, offset - userTotal) + 1;
  const groupPage =
    groupCount === 0 ? [] : (groups.listGroups(deps, { ...params, startIndex: groupStart, count: groupCount }, ctx).body as { Resources: unknown[] }).Resources;
  return { status: 200, body: listResponse(userTotal + groupTotal, uq.startIndex, [...userPage, ...groupPage]) };
}

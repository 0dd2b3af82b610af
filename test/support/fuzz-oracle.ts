/**
 * What every SCIM answer must look like, whatever was sent: never a server failure, always JSON in
 * application/scim+json when there is a body, an RFC 7644 §3.12 error for every refusal, and a
 * well-formed resource or ListResponse for every success. Returns the problems found (empty when
 * the answer is fine) so the harness can report them together with the request that caused them.
 */
export const ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error";
export const LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/** RFC 7644 §3.12, Table 9: the only scimType values a SCIM error may carry. */
const SCIM_TYPES = new Set(["invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax", "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive"]);

/** A JavaScript stack frame ("    at fn (file.js:1:2)") or a source path: internals that must not reach a client. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/src\/|\.[jt]s:\d+/;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export interface Asked {
  readonly method: string;
  /** Path below the SCIM base, query string included. */
  readonly path: string;
  /** Secrets the answer must not repeat (the presented Authorization value, the tokens). */
  readonly secrets: readonly string[];
  /** A SearchRequest body asked for `attributes` or `excludedAttributes` (the query string is read here). */
  readonly projectedInBody: boolean;
}

/** Where the request went: the first path segment, and whether a projection was asked for. */
function routeOf(path: string, projectedInBody: boolean): { first: string; second: string | undefined; projected: boolean } {
  const [pathname = "", query = ""] = path.split("?", 2);
  const segments = pathname.split("/").filter((s) => s !== "");
  const params = new URLSearchParams(query);
  return { first: segments[0] ?? "", second: segments[1], projected: projectedInBody || params.has("attributes") || params.has("excludedAttributes") };
}

export function answerProblems(asked: Asked, res: Answer): string[] {
  const problems: string[] = [];
  const route = routeOf(asked.path, asked.projectedInBody);
  // RFC 7644 §3.2 makes /Bulk optional and /Me may be unsupported: 501 Not Implemented is the answer there.
  const unsupported = (route.first === "Bulk" || route.first === "Me") && route.second === undefined;
  if (res.status >= 500 && !(res.status === 501 && unsupported)) problems.push(`server failure ${res.status}`);
  for (const secret of asked.secrets) if (secret.length >= 8 && res.text.includes(secret)) problems.push("the answer repeats a presented secret");
  const noBody = asked.method === "HEAD" || res.status === 204 || res.status === 304;
  if (noBody) {
    if (res.text !== "") problems.push(`a ${res.status} answer to ${asked.method} has a body`);
    return problems;
  }
  if (!/^application\/scim\+json\b/.test(res.headers.get("content-type") ?? "")) {
    problems.push(`Content-Type is ${res.headers.get("content-type") ?? "missing"}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    problems.push("the body is not JSON");
    return problems;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return [...problems, "the body is not a JSON object"];
  const b = body as Record<string, unknown>;
  if (res.status >= 400) problems.push(...errorProblems(b, res));
  else problems.push(...successProblems(b, res, route));
  return problems;
}

function errorProblems(b: Record<string, unknown>, res: Answer): string[] {
  const problems: string[] = [];
  if (JSON.stringify(b["schemas"]) !== JSON.stringify([ERROR_URN])) problems.push(`error schemas ${JSON.stringify(b["schemas"])}`);
  if (b["status"] !== String(res.status)) problems.push(`error status ${JSON.stringify(b["status"])} for HTTP ${res.status}`);
  if (b["scimType"] !== undefined && !SCIM_TYPES.has(b["scimType"] as string)) problems.push(`scimType ${JSON.stringify(b["scimType"])}`);
  if (typeof b["detail"] !== "string") problems.push("error without a detail string");
  else if (LEAK.test(b["detail"])) problems.push(`detail leaks internals: ${b["detail"].slice(0, 200)}`);
  if (res.status === 401 && !/^Bearer\b/.test(res.headers.get("www-authenticate") ?? "")) problems.push("401 without WWW-Authenticate: Bearer");
  if (res.status === 405 && !res.headers.get("allow")) problems.push("405 without Allow");
  return problems;
}

function successProblems(b: Record<string, unknown>, res: Answer, route: ReturnType<typeof routeOf>): string[] {
  const schemas = b["schemas"];
  if (!Array.isArray(schemas) || schemas.length === 0 || !schemas.every((s) => typeof s === "string")) return [`success without schemas: ${JSON.stringify(schemas)}`];
  const isResourceRoute = route.first === "Users" || route.first === "Groups";
  if (schemas.includes(LIST_URN)) return listProblems(b, route);
  if (!isResourceRoute) return [];
  const problems = resourceProblems(b, route.first === "Users" ? "Users" : "Groups", route.projected);
  const etag = res.headers.get("etag");
  const meta = b["meta"] as Record<string, unknown> | undefined;
  if (etag === null) problems.push("a resource answer without ETag");
  else if (meta?.["version"] !== undefined && meta["version"] !== etag) problems.push(`ETag ${etag} but meta.version ${String(meta["version"])}`);
  return problems;
}

function listProblems(b: Record<string, unknown>, route: ReturnType<typeof routeOf>): string[] {
  const problems: string[] = [];
  const resources = b["Resources"];
  const total = b["totalResults"];
  if (!Number.isSafeInteger(total) || (total as number) < 0) problems.push(`totalResults ${JSON.stringify(total)}`);
  if (!Number.isSafeInteger(b["startIndex"]) || (b["startIndex"] as number) < 1) problems.push(`startIndex ${JSON.stringify(b["startIndex"])}`);
  if (!Array.isArray(resources)) return [...problems, "ListResponse without a Resources array"];
  if (b["itemsPerPage"] !== resources.length) problems.push(`itemsPerPage ${String(b["itemsPerPage"])} for ${resources.length} Resources`);
  if (typeof total === "number" && resources.length > total) problems.push(`${resources.length} Resources but totalResults ${total}`);
  const kind = route.first === "Users" || route.first === "Groups" ? route.first : undefined;
  if (route.first === "Users" || route.first === "Groups" || route.first === ".search") {
    for (const r of resources) problems.push(...resourceProblems(r as Record<string, unknown>, kind, route.projected));
  }
  return problems;
}

/** A served User or Group: schemas, id, and (unless a projection left it out) meta naming its type and place. */
function resourceProblems(r: Record<string, unknown>, kind: "Users" | "Groups" | undefined, projected: boolean): string[] {
  const problems: string[] = [];
  if (typeof r !== "object" || r === null) return ["a resource that is not an object"];
  const id = r["id"];
  if (typeof id !== "string" || id === "") problems.push(`resource without an id: ${JSON.stringify(r).slice(0, 200)}`);
  if (!Array.isArray(r["schemas"]) || (r["schemas"] as unknown[]).length === 0) problems.push("resource without schemas");
  const meta = r["meta"] as Record<string, unknown> | undefined;
  if (meta === undefined) {
    if (!projected) problems.push(`resource ${String(id)} without meta`);
    return problems;
  }
  const type = meta["resourceType"];
  if (projected && type === undefined) return problems;
  const expected = kind === undefined ? ["User", "Group"] : [kind === "Users" ? "User" : "Group"];
  if (!expected.includes(type as string)) problems.push(`meta.resourceType ${JSON.stringify(type)}`);
  const location = meta["location"];
  const endpoint = type === "User" ? "Users" : "Groups";
  if (!(projected && location === undefined) && (typeof location !== "string" || !location.endsWith(`/scim/v2/${endpoint}/${String(id)}`))) {
    problems.push(`meta.location ${JSON.stringify(location)} for ${String(id)}`);
  }
  return problems;
}

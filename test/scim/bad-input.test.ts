/**
 * Malformed and refused requests: every one answers with an RFC 7644 §3.12 error (Error schema,
 * `status` as a string equal to the HTTP status, application/scim+json), never a 500, and leaves
 * the directory and the audit log exactly as they were.
 */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { CORE_GROUP, CORE_USER, create, expectScimError, openReadOnly, PATCH_OP, patch, SEARCH_REQUEST, userBody as user, useBridge } from "../support/scim.js";

const MAX_BODY_BYTES = 4096;

interface Seeded {
  /** A user in the group. */
  readonly userId: string;
  readonly userName: string;
  /** A second user, target of conflicting renames. */
  readonly otherId: string;
  readonly groupId: string;
}

type Auth = "scim" | "none" | "wrong" | "basic" | "admin";

interface BadRequest {
  readonly name: string;
  readonly method: string;
  readonly path: string | ((s: Seeded) => string);
  /** A string is sent as is (raw bytes); anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly auth?: Auth;
  readonly status: number;
  readonly scimType?: string;
}

const filter = (resource: string, f: string) => `/${resource}?filter=${encodeURIComponent(f)}`;
const STALE = { "If-Match": 'W/"999"' };

const cases: BadRequest[] = [
  // Body syntax (RFC 7644 §3.12 invalidSyntax)
  { name: "malformed JSON", method: "POST", path: "/Users", body: '{"userName": "broken@example.com",', status: 400, scimType: "invalidSyntax" },
  { name: "malformed JSON in a PATCH", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: "{not json}", status: 400, scimType: "invalidSyntax" },
  { name: "POST without a body", method: "POST", path: "/Users", status: 400, scimType: "invalidSyntax" },
  { name: "PATCH without a body", method: "PATCH", path: (s) => `/Groups/${s.groupId}`, status: 400, scimType: "invalidSyntax" },
  { name: "a JSON string instead of an object", method: "POST", path: "/Users", body: '"jane@example.com"', status: 400, scimType: "invalidSyntax" },
  { name: "a JSON array instead of an object", method: "POST", path: "/Users", body: [user("array@example.com")], status: 400, scimType: "invalidSyntax" },
  { name: "schemas that is not an array", method: "POST", path: "/Users", body: { schemas: CORE_USER, userName: "x@example.com" }, status: 400, scimType: "invalidSyntax" },
  { name: "PATCH without schemas", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: { Operations: [{ op: "replace", path: "title", value: "x" }] }, status: 400, scimType: "invalidSyntax" },
  { name: "PATCH with the wrong message schema", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: { schemas: [SEARCH_REQUEST], Operations: [{ op: "replace", path: "title", value: "x" }] }, status: 400, scimType: "invalidSyntax" },
  { name: "PATCH without Operations", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: { schemas: [PATCH_OP] }, status: 400, scimType: "invalidSyntax" },
  { name: "PATCH with empty Operations", method: "PATCH", path: (s) => `/Groups/${s.groupId}`, body: patch(), status: 400, scimType: "invalidSyntax" },
  { name: "PATCH op that is not add/remove/replace", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "copy", path: "title", value: "x" }), status: 400, scimType: "invalidSyntax" },
  { name: "PATCH operation without op", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ path: "title", value: "x" }), status: 400, scimType: "invalidSyntax" },
  { name: "SearchRequest with the wrong schema", method: "POST", path: "/Users/.search", body: { schemas: [PATCH_OP], filter: 'userName eq "a"' }, status: 400, scimType: "invalidSyntax" },
  { name: "SearchRequest with a numeric filter", method: "POST", path: "/.search", body: { schemas: [SEARCH_REQUEST], filter: 42 }, status: 400, scimType: "invalidSyntax" },

  // Filters (RFC 7644 §3.4.2.2)
  { name: "filter with no value", method: "GET", path: filter("Users", "userName eq"), status: 400, scimType: "invalidFilter" },
  { name: "filter with an unknown operator", method: "GET", path: filter("Users", 'userName is "a"'), status: 400, scimType: "invalidFilter" },
  { name: "filter with an unclosed parenthesis", method: "GET", path: filter("Users", '(userName eq "a"'), status: 400, scimType: "invalidFilter" },
  { name: "filter with an unterminated string", method: "GET", path: filter("Users", 'userName eq "a'), status: 400, scimType: "invalidFilter" },
  { name: "filter with a dangling and", method: "GET", path: filter("Users", 'userName eq "a" and'), status: 400, scimType: "invalidFilter" },
  { name: "filter with an unclosed value path", method: "GET", path: filter("Users", 'emails[type eq "work"'), status: 400, scimType: "invalidFilter" },
  { name: "filter on an unknown attribute", method: "GET", path: filter("Users", 'shoeSize eq "42"'), status: 400, scimType: "invalidFilter" },
  { name: "filter on a User attribute against Groups", method: "GET", path: filter("Groups", 'userName eq "a"'), status: 400, scimType: "invalidFilter" },
  { name: "bad filter in a SearchRequest", method: "POST", path: "/Users/.search", body: { schemas: [SEARCH_REQUEST], filter: "userName eq" }, status: 400, scimType: "invalidFilter" },

  // List parameters (RFC 7644 §3.4.2.3, §3.4.2.4)
  { name: "startIndex=abc", method: "GET", path: "/Users?startIndex=abc", status: 400, scimType: "invalidValue" },
  { name: "count=ten", method: "GET", path: "/Users?count=ten", status: 400, scimType: "invalidValue" },
  { name: "count=1.5", method: "GET", path: "/Groups?count=1.5", status: 400, scimType: "invalidValue" },
  { name: "sortOrder=sideways", method: "GET", path: "/Users?sortBy=userName&sortOrder=sideways", status: 400, scimType: "invalidValue" },
  { name: "sortBy an unknown attribute", method: "GET", path: "/Users?sortBy=shoeSize", status: 400, scimType: "invalidValue" },

  // Values (RFC 7644 §3.12 invalidValue)
  { name: "missing userName", method: "POST", path: "/Users", body: { schemas: [CORE_USER], name: { givenName: "No" } }, status: 400, scimType: "invalidValue" },
  { name: "blank userName", method: "POST", path: "/Users", body: user("   "), status: 400, scimType: "invalidValue" },
  { name: "userName that is an object", method: "POST", path: "/Users", body: user({ first: "jane" }), status: 400, scimType: "invalidValue" },
  { name: "userName that is an array of two", method: "POST", path: "/Users", body: user(["a@example.com", "b@example.com"]), status: 400, scimType: "invalidValue" },
  { name: "active that is not a boolean", method: "POST", path: "/Users", body: user("maybe@example.com", { active: "perhaps" }), status: 400, scimType: "invalidValue" },
  { name: "externalId that is a number", method: "POST", path: "/Users", body: user("ext@example.com", { externalId: 12 }), status: 400, scimType: "invalidValue" },
  { name: "name that is a string", method: "POST", path: "/Users", body: user("name@example.com", { name: "Jane Doe" }), status: 400, scimType: "invalidValue" },
  {
    name: "two primary emails (RFC 7643 §2.4)",
    method: "POST",
    path: "/Users",
    body: user("primary@example.com", { emails: [{ value: "a@example.com", primary: true }, { value: "b@example.com", primary: true }] }),
    status: 400,
    scimType: "invalidValue",
  },
  { name: "PUT without userName", method: "PUT", path: (s) => `/Users/${s.userId}`, body: { schemas: [CORE_USER], title: "x" }, status: 400, scimType: "invalidValue" },
  { name: "group without displayName", method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], members: [] }, status: 400, scimType: "invalidValue" },
  { name: "group with an unknown member", method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], displayName: "Ghosts", members: [{ value: randomUUID() }] }, status: 400, scimType: "invalidValue" },
  { name: "group member without value", method: "PUT", path: (s) => `/Groups/${s.groupId}`, body: { schemas: [CORE_GROUP], displayName: "Seeded", members: [{ display: "who?" }] }, status: 400, scimType: "invalidValue" },
  { name: "PATCH active to a non-boolean", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "replace", path: "active", value: "perhaps" }), status: 400, scimType: "invalidValue" },
  { name: "PATCH that removes the required userName", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "remove", path: "userName" }), status: 400, scimType: "invalidValue" },
  {
    name: "PATCH adding an unknown member after a valid rename (atomic)",
    method: "PATCH",
    path: (s) => `/Groups/${s.groupId}`,
    body: patch({ op: "replace", path: "displayName", value: "Renamed?" }, { op: "add", path: "members", value: [{ value: randomUUID() }] }),
    status: 400,
    scimType: "invalidValue",
  },
  {
    // The projection is part of the request: refusing it must refuse the change too (RFC 7644 §3.5.2 atomicity).
    name: "group PATCH asking for an unknown attribute back",
    method: "PATCH",
    path: (s) => `/Groups/${s.groupId}?attributes=shoeSize`,
    body: patch({ op: "replace", path: "displayName", value: "Renamed?" }),
    status: 400,
    scimType: "invalidValue",
  },
  {
    name: "user PATCH excluding an unknown attribute",
    method: "PATCH",
    path: (s) => `/Users/${s.userId}?excludedAttributes=shoeSize`,
    body: patch({ op: "replace", path: "title", value: "Changed?" }),
    status: 400,
    scimType: "invalidValue",
  },

  // PATCH paths (RFC 7644 §3.5.2)
  { name: "PATCH remove without a path", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "remove" }), status: 400, scimType: "noTarget" },
  { name: "PATCH path on an unknown attribute", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "replace", path: "shoeSize", value: "42" }), status: 400, scimType: "invalidPath" },
  { name: "PATCH path with an unclosed filter", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "replace", path: 'emails[type eq "work".value', value: "x" }), status: 400, scimType: "invalidPath" },
  { name: "PATCH of the readOnly id", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "replace", path: "id", value: "mine" }), status: 400, scimType: "mutability" },
  // meta.location and $ref are URLs built from the request; filtering on them is refused (scim/filter/sql.ts).
  { name: "PATCH removing members by $ref", method: "PATCH", path: (s) => `/Groups/${s.groupId}`, body: patch({ op: "remove", path: 'members[$ref eq "x"]' }), status: 400, scimType: "invalidPath" },
  { name: "PATCH of readOnly meta.created", method: "PATCH", path: (s) => `/Groups/${s.groupId}`, body: patch({ op: "replace", path: "meta.created", value: "2020-01-01T00:00:00Z" }), status: 400, scimType: "mutability" },

  // Uniqueness (RFC 7644 §3.3: 409 uniqueness)
  { name: "duplicate userName", method: "POST", path: "/Users", body: user("seeded.user@example.com"), status: 409, scimType: "uniqueness" },
  { name: "duplicate userName differing in case", method: "POST", path: "/Users", body: user("SEEDED.User@Example.com"), status: 409, scimType: "uniqueness" },
  { name: "PUT renaming onto a taken userName", method: "PUT", path: (s) => `/Users/${s.otherId}`, body: user("seeded.user@example.com"), status: 409, scimType: "uniqueness" },
  { name: "PATCH renaming onto a taken userName", method: "PATCH", path: (s) => `/Users/${s.otherId}`, body: patch({ op: "replace", path: "userName", value: "Seeded.User@example.com" }), status: 409, scimType: "uniqueness" },

  // Unknown resources and endpoints (404)
  { name: "GET of an unknown user", method: "GET", path: () => `/Users/${randomUUID()}`, status: 404 },
  { name: "PUT of an unknown user", method: "PUT", path: () => `/Users/${randomUUID()}`, body: user("ghost@example.com"), status: 404 },
  { name: "PATCH of an unknown user", method: "PATCH", path: () => `/Users/${randomUUID()}`, body: patch({ op: "replace", path: "active", value: false }), status: 404 },
  { name: "DELETE of an unknown user", method: "DELETE", path: () => `/Users/${randomUUID()}`, status: 404 },
  { name: "GET of an unknown group", method: "GET", path: () => `/Groups/${randomUUID()}`, status: 404 },
  { name: "PATCH of an unknown group", method: "PATCH", path: () => `/Groups/${randomUUID()}`, body: patch({ op: "replace", path: "displayName", value: "x" }), status: 404 },
  { name: "DELETE of an unknown group", method: "DELETE", path: () => `/Groups/${randomUUID()}`, status: 404 },
  { name: "an unknown endpoint", method: "GET", path: "/Widgets", status: 404 },
  { name: "a path below a resource", method: "GET", path: (s) => `/Users/${s.userId}/groups`, status: 404 },
  { name: "an id with broken percent-encoding", method: "GET", path: "/Users/%E0%A4%A", status: 404 },
  { name: "an unknown resource type", method: "GET", path: "/ResourceTypes/Widget", status: 404 },
  { name: "an unknown schema", method: "GET", path: "/Schemas/urn:example:widget", status: 404 },

  // Methods (405) and unsupported features (RFC 7644 §3.11: 501)
  { name: "DELETE on the collection", method: "DELETE", path: "/Users", status: 405 },
  { name: "PUT on the collection", method: "PUT", path: "/Users", body: user("x@example.com"), status: 405 },
  { name: "PATCH on the collection", method: "PATCH", path: "/Groups", body: patch({ op: "replace", path: "displayName", value: "x" }), status: 405 },
  { name: "GET on .search", method: "GET", path: "/Users/.search", status: 405 },
  { name: "POST to a resource", method: "POST", path: (s) => `/Users/${s.userId}`, body: user("x@example.com"), status: 405 },
  { name: "POST to ServiceProviderConfig", method: "POST", path: "/ServiceProviderConfig", body: {}, status: 405 },
  { name: "DELETE on Schemas", method: "DELETE", path: "/Schemas", status: 405 },
  { name: "Bulk", method: "POST", path: "/Bulk", body: { schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], Operations: [] }, status: 501 },
  { name: "/Me", method: "GET", path: "/Me", status: 501 },

  // Preconditions (RFC 7644 §3.14)
  { name: "PUT with a stale If-Match", method: "PUT", path: (s) => `/Users/${s.userId}`, body: user("seeded.user@example.com", { title: "x" }), headers: STALE, status: 412 },
  { name: "PATCH with a stale If-Match", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: patch({ op: "replace", path: "active", value: false }), headers: STALE, status: 412 },
  { name: "DELETE of a user with a stale If-Match", method: "DELETE", path: (s) => `/Users/${s.userId}`, headers: STALE, status: 412 },
  { name: "group PATCH with a stale If-Match", method: "PATCH", path: (s) => `/Groups/${s.groupId}`, body: patch({ op: "remove", path: "members" }), headers: STALE, status: 412 },
  { name: "DELETE of a group with a stale If-Match", method: "DELETE", path: (s) => `/Groups/${s.groupId}`, headers: STALE, status: 412 },

  // Size and media type
  { name: "body over the size limit", method: "POST", path: "/Users", body: user("big@example.com", { title: "x".repeat(MAX_BODY_BYTES * 2) }), status: 413 },
  { name: "Content-Type text/plain", method: "POST", path: "/Users", body: JSON.stringify(user("plain@example.com")), headers: { "Content-Type": "text/plain" }, status: 415 },
  { name: "Content-Type application/xml", method: "PUT", path: (s) => `/Users/${s.userId}`, body: "<User/>", headers: { "Content-Type": "application/xml" }, status: 415 },
  { name: "a body in a charset other than UTF-8", method: "POST", path: "/Users", body: JSON.stringify(user("latin@example.com")), headers: { "Content-Type": "application/json; charset=iso-8859-1" }, status: 415 },
  { name: "a body that claims gzip but is plain JSON", method: "POST", path: "/Users", body: user("gzip@example.com"), headers: { "Content-Encoding": "gzip" }, status: 400, scimType: "invalidSyntax" },
  { name: "a body that claims deflate but is not", method: "PATCH", path: (s) => `/Users/${s.userId}`, body: "\u0000 not deflate", headers: { "Content-Encoding": "deflate" }, status: 400, scimType: "invalidSyntax" },

  // Authentication and scope (RFC 7644 §2, RFC 6750)
  { name: "no token", method: "GET", path: "/Users", auth: "none", status: 401 },
  { name: "no token on a write", method: "POST", path: "/Users", body: user("anon@example.com"), auth: "none", status: 401 },
  { name: "an unknown token", method: "GET", path: (s) => `/Users/${s.userId}`, auth: "wrong", status: 401 },
  { name: "Basic instead of Bearer", method: "DELETE", path: (s) => `/Users/${s.userId}`, auth: "basic", status: 401 },
  { name: "the admin token on SCIM", method: "GET", path: "/Users", auth: "admin", status: 403 },
  { name: "the admin token on a SCIM write", method: "DELETE", path: (s) => `/Groups/${s.groupId}`, auth: "admin", status: 403 },
];

function authorization(auth: Auth): Record<string, string | null> {
  switch (auth) {
    case "scim":
      return { Authorization: `Bearer ${SCIM_TOKEN}` };
    case "admin":
      return { Authorization: `Bearer ${ADMIN_TOKEN}` };
    case "wrong":
      return { Authorization: "Bearer test-scim-token-0123456789abcdeX" };
    case "basic":
      return { Authorization: `Basic ${Buffer.from(`okta:${SCIM_TOKEN}`).toString("base64")}` };
    case "none":
      return { Authorization: null };
  }
}

/** The rows a bad request must not touch, read through a second, read-only connection. */
function snapshot(db: Database.Database): unknown {
  return {
    counts: db
      .prepare(
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM groups) AS groups,
                (SELECT count(*) FROM group_members) AS members, (SELECT count(*) FROM audit_events) AS audit`,
      )
      .get(),
    users: db.prepare("SELECT id, user_name, external_id, active, data, version, updated_at FROM users ORDER BY pk").all(),
    groups: db.prepare("SELECT id, display_name, external_id, data, version, updated_at FROM groups ORDER BY pk").all(),
    members: db.prepare("SELECT group_pk, user_pk FROM group_members ORDER BY group_pk, user_pk").all(),
  };
}

describe("bad input", () => {
  const bridge = useBridge({ SCIM_BRIDGE_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  let db: Database.Database;
  let seeded: Seeded;
  let before: { db: unknown; user: unknown; group: unknown };

  beforeAll(async () => {
    const a = await create(bridge, "Users", user("seeded.user@example.com", { emails: [{ value: "seeded.user@example.com", type: "work", primary: true }] }));
    const b = await create(bridge, "Users", user("other.user@example.com"));
    const g = await create(bridge, "Groups", { schemas: [CORE_GROUP], displayName: "Seeded", members: [{ value: a.id }] });
    seeded = { userId: a.id, userName: a.userName, otherId: b.id, groupId: g.id };
    db = openReadOnly(bridge);
  });
  afterAll(() => {
    db.close();
  });

  beforeEach(async () => {
    before = {
      db: snapshot(db),
      user: (await bridge.scim("GET", `/Users/${seeded.userId}`)).body,
      group: (await bridge.scim("GET", `/Groups/${seeded.groupId}`)).body,
    };
  });

  for (const c of cases) {
    it(`answers ${c.method} ${typeof c.path === "string" ? c.path : "…"} with ${c.status}${c.scimType ? ` ${c.scimType}` : ""}: ${c.name}`, async () => {
      const path = typeof c.path === "string" ? c.path : c.path(seeded);
      const res = await bridge.scim(c.method, path, c.body, { ...authorization(c.auth ?? "scim"), ...c.headers });

      expectScimError(res, c.status, c.scimType);
      // The error never echoes the presented secret.
      expect(res.text).not.toContain(SCIM_TOKEN);
      expect(res.text).not.toContain(ADMIN_TOKEN);

      expect(snapshot(db)).toEqual(before.db);
      expect((await bridge.scim("GET", `/Users/${seeded.userId}`)).body).toEqual(before.user);
      expect((await bridge.scim("GET", `/Groups/${seeded.groupId}`)).body).toEqual(before.group);
    });
  }

  it("never logged an internal error while answering them", () => {
    const errors = bridge.logLines.map((l) => JSON.parse(l) as { level: string; message: string }).filter((l) => l.level === "error");
    expect(errors).toEqual([]);
  });
});

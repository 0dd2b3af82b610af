/**
 * The route template the request metrics label SCIM requests with must name exactly the endpoint
 * that dispatch answers: a template for every path the service serves (never the id itself), and
 * none for a path it answers 404.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ScimDeps } from "../../src/scim/deps.js";
import { handleScim, scimRouteOf } from "../../src/scim/service.js";

describe("SCIM route templates", () => {
  it("name each endpoint of RFC 7644 §3.2 by template, with ids replaced", () => {
    const cases: [string, string | undefined][] = [
      ["Users", "/Users"],
      ["Users/2819c223-7f76-453a-919d-413861904646", "/Users/:id"],
      ["Users/.search", "/Users/.search"],
      ["Groups", "/Groups"],
      ["Groups/e9e30dba", "/Groups/:id"],
      ["Groups/.search", "/Groups/.search"],
      [".search", "/.search"],
      ["ServiceProviderConfig", "/ServiceProviderConfig"],
      ["ResourceTypes", "/ResourceTypes"],
      ["ResourceTypes/User", "/ResourceTypes/:id"],
      ["Schemas", "/Schemas"],
      ["Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/Schemas/:id"],
      ["Bulk", "/Bulk"],
      ["Me", "/Me"],
      ["", undefined],
      ["Users/x/y", undefined],
      ["Me/x", undefined],
      ["ServiceProviderConfig/x", undefined],
      // Endpoint names in any case are the same endpoint (case 1 of issue 13's interop gaps): one label each.
      ["users", "/Users"],
      ["GROUPS/.Search", "/Groups/.search"],
      ["serviceproviderconfig", "/ServiceProviderConfig"],
      ["User", undefined],
    ];
    for (const [path, route] of cases) expect(scimRouteOf(path.split("/").filter((s) => s !== "")), path).toBe(route);
  });

  it("has a template exactly when dispatch finds an endpoint", () => {
    // HEAD is allowed nowhere: a known endpoint answers 405 (501 for Bulk and Me) without touching
    // the stores, an unknown one 404, so dispatch is observed without a database.
    const deps = {} as ScimDeps;
    const segment = fc.oneof(
      fc.constantFrom("Users", "Groups", ".search", "ServiceProviderConfig", "ResourceTypes", "Schemas", "Bulk", "Me", "User", "users", "x"),
      fc.string({ minLength: 1, maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), (segments) => {
        const r = handleScim(deps, { method: "HEAD", segments, query: {}, body: undefined, context: { actor: "t", requestId: "r", baseUrl: "http://x/scim/v2" } });
        expect(r.status === 404, `${JSON.stringify(segments)} → ${r.status}`).toBe(scimRouteOf(segments) === undefined);
      }),
      { seed: 20261204, numRuns: 2000 },
    );
  });
});

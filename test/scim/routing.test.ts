/**
 * Routing edges an IdP or a scanner can hit: 405 with Allow, tokens only from the header, and
 * root-level search with attributes that only one resource type defines.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN } from "../support/bridge.js";
import { CORE_USER, create, expectScimError, SEARCH_REQUEST, useBridge } from "../support/scim.js";

describe("SCIM routing", () => {
  const bridge = useBridge();
  beforeAll(async () => {
    await create(bridge, "Users", { userName: "root.search@example.com" });
    await create(bridge, "Groups", { displayName: "Root search group" });
  });

  it("answers an unsupported method with 405, a SCIM body and the Allow header (RFC 9110 §15.5.6)", async () => {
    const r = await bridge.scim("DELETE", "/Users");
    expectScimError(r, 405);
    expect(r.headers.get("allow")).toBe("GET, POST");
    expect((await bridge.scim("GET", "/Users/.search")).headers.get("allow")).toBe("POST");
  });

  it("accepts the token only in the Authorization header, never in the query string", async () => {
    expectScimError(await bridge.scim("GET", `/Users?access_token=${SCIM_TOKEN}`, undefined, { Authorization: null }), 401);
    expect(bridge.logLines.join("\n")).not.toContain(SCIM_TOKEN);
  });

  it("searches at the root with an attribute only Users define, and filters that only fit Users", async () => {
    const r = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["userName"], filter: 'userName sw "root."' });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0]).toEqual({ schemas: [CORE_USER], id: expect.any(String), userName: "root.search@example.com" });
    const both = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["userName", "displayName"] });
    expect(both.body.totalResults).toBe(2);
  });

  it("still rejects a root search whose filter or attributes fit no resource type", async () => {
    const badFilter = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], filter: 'nickName eq "x" and members.value eq "y"' });
    expectScimError(badFilter, 400, "invalidFilter");
    const badAttr = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["shoeSize"] });
    expectScimError(badAttr, 400, "invalidValue");
  });
});

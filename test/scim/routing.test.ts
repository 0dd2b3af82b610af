/**
 * Routing edges an IdP or a scanner can hit: 405 with Allow, tokens only from the header, and
 * root-level search with attributes that only one resource type defines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";

const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

describe("SCIM routing", () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
    await bridge.scim("POST", "/Users", { userName: "root.search@example.com" });
    await bridge.scim("POST", "/Groups", { displayName: "Root search group" });
  });
  afterAll(async () => bridge.close());

  it("answers an unsupported method with 405, a SCIM body and the Allow header (RFC 9110 §15.5.6)", async () => {
    const r = await bridge.scim("DELETE", "/Users");
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, POST");
    expect(r.body).toMatchObject({ status: "405", schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"] });
    expect((await bridge.scim("GET", "/Users/.search")).headers.get("allow")).toBe("POST");
  });

  it("accepts the token only in the Authorization header, never in the query string", async () => {
    const res = await fetch(`${bridge.baseUrl}/Users?access_token=${SCIM_TOKEN}`);
    expect(res.status).toBe(401);
    expect(bridge.logLines.join("\n")).not.toContain(SCIM_TOKEN);
  });

  it("searches at the root with an attribute only Users define, and filters that only fit Users", async () => {
    const r = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["userName"], filter: 'userName sw "root."' });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0]).toEqual({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], id: expect.any(String), userName: "root.search@example.com" });
    const both = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["userName", "displayName"] });
    expect(both.body.totalResults).toBe(2);
  });

  it("still rejects a root search whose filter or attributes fit no resource type", async () => {
    const badFilter = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], filter: 'nickName eq "x" and members.value eq "y"' });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body.scimType).toBe("invalidFilter");
    const badAttr = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], attributes: ["shoeSize"] });
    expect(badAttr.status).toBe(400);
  });
});

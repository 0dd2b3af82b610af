/**
 * Routing edges an IdP or a scanner can hit: 405 with Allow, tokens only from the header, and
 * root-level search with attributes that only one resource type defines.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { SCIM_TOKEN } from "../support/bridge.js";
import { exchange } from "../support/io.js";
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

  it("answers resource endpoints in any letter case as the canonical ones, with canonical meta.location", async () => {
    const canonical = (await bridge.scim("GET", "/Users")).body;
    const lower = await bridge.scim("GET", "/users");
    expect(lower.status).toBe(200);
    expect(lower.body).toEqual(canonical);
    const user = canonical.Resources[0];
    const byId = await bridge.scim("GET", `/USERS/${user.id}`);
    expect(byId.body.meta.location).toBe(`${bridge.baseUrl}/Users/${user.id}`);
    const groups = await bridge.scim("GET", "/GROUPS");
    expect(groups.body.Resources[0].meta.location).toMatch(new RegExp(`^${bridge.baseUrl}/Groups/`));
    const config = await bridge.scim("GET", "/serviceproviderconfig");
    expect(config.body.meta.location).toBe(`${bridge.baseUrl}/ServiceProviderConfig`);
    expect((await bridge.scim("GET", "/schemas")).body).toEqual((await bridge.scim("GET", "/Schemas")).body);
    expect((await bridge.scim("GET", "/resourcetypes")).body).toEqual((await bridge.scim("GET", "/ResourceTypes")).body);
    const search = await bridge.scim("POST", "/.SEARCH", { schemas: [SEARCH_REQUEST], filter: 'userName sw "root."' });
    expect(search.body.totalResults).toBe(1);
    const usersSearch = await bridge.scim("POST", "/users/.Search", { schemas: [SEARCH_REQUEST], filter: 'userName sw "root."' });
    expect(usersSearch.body.totalResults).toBe(1);
    // An id is not a name: its case is kept, so another spelling of it names no resource.
    expectScimError(await bridge.scim("GET", `/Users/${user.id.toUpperCase()}`), 404);
  });

  it("answers an unknown path under the SCIM base with a SCIM 404 that lists the endpoints", async () => {
    const r = await bridge.scim("GET", "/Userz");
    expectScimError(r, 404);
    expect(r.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    expect(r.body.detail).toBe("No such endpoint /Userz: the endpoints are /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas");
  });

  it("answers a SCIM path without /scim/v2 with a SCIM 404 that points at the base URL", async () => {
    const r = await exchange(`${bridge.running.url}/Users?filter=x`, "GET", { Authorization: `Bearer ${SCIM_TOKEN}` }, undefined, "application/scim+json");
    expectScimError(r, 404);
    expect(r.headers.get("content-type")).toMatch(/^application\/scim\+json/);
    expect(r.body.detail).toBe(`No such endpoint /Users: the SCIM endpoints are under /scim/v2 (SCIM base URL ${bridge.running.url}/scim/v2, so this would be ${bridge.running.url}/scim/v2/Users)`);
  });

  it("names the SCIM base URL and the review page at /, as JSON or as a page for a browser", async () => {
    const json = await exchange(`${bridge.running.url}/`, "GET", {}, undefined, "application/json");
    expect(json.status).toBe(200);
    expect(json.body).toEqual({ name: "scim-bridge", scimBaseUrl: `${bridge.running.url}/scim/v2`, reviewPage: `${bridge.running.url}/admin`, health: `${bridge.running.url}/healthz` });
    const page = await exchange(`${bridge.running.url}/`, "GET", { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" }, undefined, "text/html");
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain(`<code>${bridge.running.url}/scim/v2</code>`);
    expect(page.text).toContain('<a href="/admin">');
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

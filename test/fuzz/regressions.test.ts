/**
 * The smallest inputs with which the fuzz tests found a bug, kept as fixed cases, and a check that
 * the fuzz oracle itself refuses the answers it exists to catch (a fuzzer whose oracle cannot fail
 * proves nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHarness } from "../support/fuzz-harness.js";
import { answerProblems, ERROR_URN } from "../support/fuzz-oracle.js";
import { expectScimError, PATCH_OP, useBridge } from "../support/scim.js";

const USER_JSON = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"';

describe("inputs the fuzzer found", () => {
  const bridge = useBridge();
  let harness: FuzzHarness;

  beforeAll(async () => {
    await FuzzHarness.quiesce(bridge);
    harness = new FuzzHarness(bridge);
  });
  afterAll(() => harness.close());

  it("refuses a body that is not UTF-8 instead of storing U+FFFD in the userName", async () => {
    // Found by resource-bodies.test.ts: C0 80 (an overlong NUL) was decoded to two U+FFFD and a user was created.
    const body = Buffer.concat([Buffer.from(USER_JSON), Buffer.from([0xc0, 0x80]), Buffer.from('uuu"}')]);
    const res = await harness.send({ method: "POST", path: "/Users", body: new Uint8Array(body) });
    expectScimError(res, 400, "invalidSyntax");
    expect(harness.probe.ids("Users")).toEqual([]);
  });

  it("refuses a body declared as UTF-16 rather than decoding it as UTF-16", async () => {
    const res = await harness.send({
      method: "POST",
      path: "/Users",
      body: `${USER_JSON}utf16@example.com"}`,
      headers: { "Content-Type": "application/json; charset=utf-16" },
    });
    expectScimError(res, 415);
    expect(harness.probe.ids("Users")).toEqual([]);
  });

  it.each([
    ["a userName", "/Users", `${USER_JSON}x\\ud800y"}`],
    ["an unknown attribute", "/Users", `${USER_JSON}lone@example.com","shoeSize":"\\udfff"}`],
    ["a key", "/Users", `${USER_JSON}key@example.com","\\udc00":1}`],
  ])("refuses a lone surrogate escape in %s rather than storing bytes that are not UTF-8", async (_where, path, text) => {
    // Found while fuzzing with lone surrogates: "x\ud800y" was stored as the bytes ED A0 80
    // and served as "x\ufffd\ufffd\ufffdy", a userName the IdP never sent and could not look up again.
    const res = await harness.send({ method: "POST", path, body: text });
    expectScimError(res, 400, "invalidSyntax");
    expect(harness.probe.ids("Users")).toEqual([]);
  });

  it("refuses a lone surrogate escape in a PATCH filter literal, which would create an email from it", async () => {
    const user = await harness.send({ method: "POST", path: "/Users", body: `${USER_JSON}filter@example.com"}` });
    const body = { schemas: [PATCH_OP], Operations: [{ op: "add", path: 'emails[type eq "\\ud800"].value', value: "x@example.com" }] };
    expectScimError(await harness.send({ method: "PATCH", path: `/Users/${user.body.id}`, body }), 400, "invalidPath");
    const listed = await harness.send({ method: "GET", path: `/Users?filter=${encodeURIComponent('userName eq "\\udfff"')}` });
    expectScimError(listed, 400, "invalidFilter");
  });

  it("still accepts UTF-8 beyond ASCII, NUL escapes and astral characters", async () => {
    const res = await harness.send({ method: "POST", path: "/Users", body: `${USER_JSON}zoë\\u0000😀@example.com"}` });
    expect(res.status, res.text).toBe(201);
    expect(res.body.userName).toBe("zoë\u0000😀@example.com");
  });
});

describe("the fuzz oracle", () => {
  const asked = { method: "GET", path: "/Users/x", secrets: ["very-secret-token"], projectedInBody: false };
  const scim = (status: number, body: unknown, extra: Record<string, string> = {}) => ({
    status,
    headers: new Headers({ "content-type": "application/scim+json", ...extra }),
    text: typeof body === "string" ? body : JSON.stringify(body),
  });
  const error = (status: number, more: Record<string, unknown> = {}) => ({ schemas: [ERROR_URN], status: String(status), detail: "no", ...more });

  it("accepts a well-formed error and a well-formed resource", () => {
    expect(answerProblems(asked, scim(404, error(404)))).toEqual([]);
    const user = { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], id: "x", meta: { resourceType: "User", location: "http://h/scim/v2/Users/x", version: 'W/"1"' } };
    expect(answerProblems(asked, scim(200, user, { etag: 'W/"1"' }))).toEqual([]);
  });

  it.each([
    ["a 500", scim(500, error(500))],
    ["a body that is not JSON", scim(400, "<html>oops</html>")],
    ["text/html", { ...scim(400, error(400)), headers: new Headers({ "content-type": "text/html" }) }],
    ["an error without the Error schema", scim(400, { status: "400", detail: "no" })],
    ["a numeric status", scim(400, { ...error(400), status: 400 })],
    ["an unknown scimType", scim(400, error(400, { scimType: "badThing" }))],
    ["a stack trace in detail", scim(400, error(400, { detail: "TypeError: x\n    at f (/app/src/scim/users.ts:1:2)" }))],
    ["a repeated secret", scim(400, error(400, { detail: "token very-secret-token is wrong" }))],
    ["a 401 without WWW-Authenticate", scim(401, error(401))],
    ["a resource without meta.location", scim(200, { schemas: ["x"], id: "x", meta: { resourceType: "User" } }, { etag: 'W/"1"' })],
    ["a resource with the wrong resourceType", scim(200, { schemas: ["x"], id: "x", meta: { resourceType: "Group", location: "http://h/scim/v2/Groups/x" } }, { etag: 'W/"1"' })],
  ])("refuses %s", (_name, answer) => {
    expect(answerProblems(asked, answer)).not.toEqual([]);
  });
});

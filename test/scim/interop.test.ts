/**
 * What lenient SCIM servers accept and admins' tools send (issue 13's interop gaps), over real
 * HTTP against a bridge on loopback.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AGENTS, rigForTest } from "../support/provisioning.js";
import { create, expectScimError, patch, useBridge, userBody } from "../support/scim.js";

/** An ISO instant written with a +01:00 offset: the same moment, a different string. */
function plusOneHour(iso: string): string {
  const shifted = new Date(Date.parse(iso) + 3_600_000).toISOString();
  return `${shifted.slice(0, -1)}+01:00`;
}

describe("unquoted filter values", () => {
  const bridge = useBridge();
  const users: { id: string; meta: { created: string } }[] = [];
  beforeAll(async () => {
    for (const [userName, familyName] of [
      ["olivia@example.com", "Employee"],
      ["oscar@example.com", "Contractor"],
      ["peter@example.com", "Employee"],
    ] as const) {
      users.push(await create(bridge, "Users", userBody(userName, { name: { familyName }, emails: [{ type: "work", value: userName }] })));
      // Distinct creation instants, so a date comparison has something to separate.
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  const find = async (filter: string): Promise<string[]> => {
    const r = await bridge.scim("GET", `/Users?filter=${encodeURIComponent(filter)}`);
    expect(r.status, r.text).toBe(200);
    return (r.body.Resources ?? []).map((u: { userName: string }) => u.userName).sort();
  };

  it("reads an unquoted value as the string it spells", async () => {
    expect(await find("userName sw O")).toEqual(["olivia@example.com", "oscar@example.com"]);
    expect(await find("userName eq peter@example.com")).toEqual(["peter@example.com"]);
    expect(await find("name.familyName eq Employee and (emails.type eq work)")).toEqual(["olivia@example.com", "peter@example.com"]);
  });

  it("reads an unquoted value for a dateTime attribute as a date and compares instants, not strings", async () => {
    const second = users[1]!.meta.created;
    expect(await find(`meta.created gt ${second}`)).toEqual(["peter@example.com"]);
    // The same instant written with an offset: as strings it would sort after every created value.
    expect(await find(`meta.created ge ${plusOneHour(second)}`)).toEqual(["oscar@example.com", "peter@example.com"]);
    expect(await find("meta.created gt 2015-10-10T14:38:21Z")).toHaveLength(3);
  });

  it("answers a value that still cannot be read with 400 invalidFilter and says why", async () => {
    const notADate = await bridge.scim("GET", `/Users?filter=${encodeURIComponent("meta.created gt yesterday")}`);
    expectScimError(notADate, 400, "invalidFilter");
    expect(notADate.body.detail).toMatch(/"yesterday" is not a valid xsd:dateTime/);
    const keyword = await bridge.scim("GET", `/Users?filter=${encodeURIComponent("userName eq and title pr")}`);
    expectScimError(keyword, 400, "invalidFilter");
    expect(keyword.body.detail).toMatch(/found "and" \(write a value that is a keyword in quotes/);
  });
});

describe("group member display and empty multi-valued attributes", () => {
  const bridge = useBridge();

  it("keeps a member's display as the client sent it, and derives it from the user only when absent", async () => {
    const ada = await create(bridge, "Users", userBody("ada@example.com", { displayName: "Ada Lovelace" }));
    const bob = await create(bridge, "Users", userBody("bob@example.com", { displayName: "Bob Byron" }));
    const cy = await create(bridge, "Users", userBody("cy@example.com"));
    const group = await create(bridge, "Groups", { displayName: "Analysts", members: [{ value: ada.id, display: "Countess of Lovelace" }] });
    expect(group.members).toEqual([expect.objectContaining({ value: ada.id, display: "Countess of Lovelace" })]);
    const patched = await bridge.scim("PATCH", `/Groups/${group.id}`, patch({ op: "add", path: "members", value: [{ value: bob.id, display: "B. Byron" }, { value: cy.id }] }));
    expect(patched.status, patched.text).toBe(204);
    const read = await bridge.scim("GET", `/Groups/${group.id}`);
    const displays = Object.fromEntries(read.body.members.map((m: { value: string; display: string }) => [m.value, m.display]));
    expect(displays).toEqual({ [ada.id]: "Countess of Lovelace", [bob.id]: "B. Byron", [cy.id]: "cy@example.com" });
    // The sent display stays when the user is renamed; the derived one follows the user.
    await bridge.scim("PATCH", `/Users/${ada.id}`, patch({ op: "replace", path: "displayName", value: "Ada King" }));
    await bridge.scim("PATCH", `/Users/${cy.id}`, patch({ op: "replace", path: "displayName", value: "Cy Twombly" }));
    const again = await bridge.scim("GET", `/Groups/${group.id}`);
    const after = Object.fromEntries(again.body.members.map((m: { value: string; display: string }) => [m.value, m.display]));
    expect(after).toEqual({ [ada.id]: "Countess of Lovelace", [bob.id]: "B. Byron", [cy.id]: "Cy Twombly" });
    // A members filter on display sees the stored display.
    const filtered = await bridge.scim("GET", `/Groups?filter=${encodeURIComponent('members[display eq "B. Byron"]')}`);
    expect(filtered.body.totalResults).toBe(1);
  });

  it("omits members: [], emails: [] and a user's groups when there are none (RFC 7643 §2.5)", async () => {
    const group = await create(bridge, "Groups", { displayName: "Empty", members: [] });
    expect(group).not.toHaveProperty("members");
    expect((await bridge.scim("GET", `/Groups/${group.id}`)).body).not.toHaveProperty("members");
    const user = await create(bridge, "Users", userBody("lonely@example.com", { emails: [], phoneNumbers: [] }));
    expect(user).not.toHaveProperty("emails");
    expect(user).not.toHaveProperty("phoneNumbers");
    expect(user).not.toHaveProperty("groups");
    const listed = await bridge.scim("GET", `/Users?filter=${encodeURIComponent('userName eq "lonely@example.com"')}`);
    expect(Object.keys(listed.body.Resources[0])).not.toContain("groups");
    expect(Object.keys(listed.body.Resources[0])).not.toContain("emails");
  });
});

describe("remove of active", () => {
  const bridge = useBridge();

  it("unassigns active on PATCH remove (omitted from the user), while a create without active is still active", async () => {
    const user = await create(bridge, "Users", userBody("unassigned@example.com"));
    expect(user.active).toBe(true);
    const removed = await bridge.scim("PATCH", `/Users/${user.id}`, patch({ op: "remove", path: "active" }));
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).not.toHaveProperty("active");
    for (const filter of ["active eq true", "active eq false", "active pr"]) {
      const found = await bridge.scim("GET", `/Users?filter=${encodeURIComponent(`userName eq "unassigned@example.com" and ${filter}`)}`);
      expect(found.body.totalResults, filter).toBe(0);
    }
    const unassigned = await bridge.scim("GET", `/Users?filter=${encodeURIComponent('userName eq "unassigned@example.com" and not (active pr)')}`);
    expect(unassigned.body.totalResults).toBe(1);
  });

  it("keeps the stored active when a PUT leaves it out, so a PUT never re-grants access (RFC 7644 §3.5.1: not asserted)", async () => {
    const user = await create(bridge, "Users", userBody("put.without.active@example.com", { active: false }));
    const { active: _dropped, ...withoutActive } = user;
    const put = await bridge.scim("PUT", `/Users/${user.id}`, { ...withoutActive, title: "Analyst" });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ title: "Analyst", active: false });
  });

  it("leaves an inactive user whose active is removed without access in HaloPSA, and a removal from an active user takes access away", async () => {
    const rig = await rigForTest();
    const off = await rig.createUser("stays.off@example.com");
    const on = await rig.createUser("goes.off@example.com");
    await rig.createGroup(AGENTS, [off.id, on.id]);
    const offAgent = await rig.agentOnceReady("stays.off@example.com");
    await rig.agentOnceReady("goes.off@example.com");
    await rig.idle();

    await rig.bridge.scim("PATCH", `/Users/${off.id}`, patch({ op: "replace", path: "active", value: false }));
    await rig.agentOnceReady("stays.off@example.com", (a) => a.isdisabled);
    await rig.idle();
    const removed = await rig.bridge.scim("PATCH", `/Users/${off.id}`, patch({ op: "remove", path: "active" }));
    expect(removed.status, removed.text).toBe(200);
    await rig.bridge.scim("PATCH", `/Users/${on.id}`, patch({ op: "remove", path: "active" }));
    await rig.agentOnceReady("goes.off@example.com", (a) => a.isdisabled);
    await rig.idle();
    expect(rig.agentsWithEmail("stays.off@example.com")).toEqual([expect.objectContaining({ id: offAgent.id, isdisabled: true })]);
    expect(rig.audit("provision.reactivate")).toHaveLength(0);

    // Set again, access comes back on the same agent.
    await rig.bridge.scim("PATCH", `/Users/${off.id}`, patch({ op: "add", path: "active", value: true }));
    const back = await rig.agentOnceReady("stays.off@example.com", (a) => !a.isdisabled);
    expect(back.id).toBe(offAgent.id);
  });
});

describe("attribute paths with value filters in attributes and excludedAttributes", () => {
  const bridge = useBridge();
  let user: { id: string };
  beforeAll(async () => {
    user = await create(
      bridge,
      "Users",
      userBody("paths@example.com", {
        displayName: "Paths",
        emails: [
          { type: "work", value: "paths@example.com", primary: true },
          { type: "home", value: "paths@home.example" },
          { type: "work", value: "p.aths@example.com" },
        ],
      }),
    );
  });

  const get = (query: string) => bridge.scim("GET", `/Users/${user.id}?${query}`);

  it("returns only the matching elements, or only their selected sub-attribute", async () => {
    const whole = await get(`attributes=${encodeURIComponent('emails[type eq "work"]')}`);
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body).toEqual({
      schemas: expect.any(Array),
      id: user.id,
      emails: [
        { type: "work", value: "paths@example.com", primary: true },
        { type: "work", value: "p.aths@example.com" },
      ],
    });
    const values = await get(`attributes=${encodeURIComponent('userName,emails[type eq "work"].value')}`);
    expect(values.body.emails).toEqual([{ value: "paths@example.com" }, { value: "p.aths@example.com" }]);
    expect(values.body.userName).toBe("paths@example.com");
    // No element matches: the attribute is omitted, not returned empty.
    const none = await get(`attributes=${encodeURIComponent('emails[type eq "other"]')}`);
    expect(none.body).not.toHaveProperty("emails");
  });

  it("excludes only the matching elements, or only their sub-attribute, and keeps the rest", async () => {
    const dropped = await get(`excludedAttributes=${encodeURIComponent('emails[type eq "work"]')}`);
    expect(dropped.body.emails).toEqual([{ type: "home", value: "paths@home.example" }]);
    expect(dropped.body.userName).toBe("paths@example.com");
    const stripped = await get(`excludedAttributes=${encodeURIComponent('emails[type eq "home"].value')}`);
    expect(stripped.body.emails).toEqual([
      { type: "work", value: "paths@example.com", primary: true },
      { type: "home" },
      { type: "work", value: "p.aths@example.com" },
    ]);
  });

  it("works in a list, in POST /.search at the root, and refuses a path that names nothing with 400 invalidValue", async () => {
    const listed = await bridge.scim("GET", `/Users?filter=${encodeURIComponent('userName eq "paths@example.com"')}&attributes=${encodeURIComponent('emails[primary eq true].value')}`);
    expect(listed.body.Resources[0].emails).toEqual([{ value: "paths@example.com" }]);
    const root = await bridge.scim("POST", "/.search", {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
      filter: 'userName eq "paths@example.com"',
      attributes: ['emails[type eq "home"]'],
    });
    expect(root.status, root.text).toBe(200);
    expect(root.body.Resources[0].emails).toEqual([{ type: "home", value: "paths@home.example" }]);
    expectScimError(await get(`attributes=${encodeURIComponent('emails[kind eq "work"]')}`), 400, "invalidValue");
    expectScimError(await get(`attributes=${encodeURIComponent('userName[value eq "x"]')}`), 400, "invalidValue");
  });
});

describe("response byte budget", () => {
  const MIB = 1024 * 1024;
  const bridge = useBridge({ SCIM_BRIDGE_MAX_BODY_BYTES: String(2 * MIB), SCIM_BRIDGE_MAX_RESPONSE_BYTES: String(2.5 * MIB) });
  beforeAll(async () => {
    // Five users of about 1 MB each (a long title), and one small one.
    for (let i = 0; i < 5; i++) await create(bridge, "Users", userBody(`big${i}@example.com`, { title: String(i).repeat(1_000_000) }));
    await create(bridge, "Users", userBody("small@example.com"));
  });

  it("returns fewer resources than asked when the page would pass the budget, with totalResults unchanged, and pages on", async () => {
    const seen: string[] = [];
    let startIndex = 1;
    for (;;) {
      const r = await bridge.scim("GET", `/Users?startIndex=${startIndex}&count=1000`);
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      expect(r.body.totalResults).toBe(6);
      expect(r.body.itemsPerPage).toBe(r.body.Resources.length);
      expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(2.5 * MIB + 1024);
      seen.push(...r.body.Resources.map((u: { userName: string }) => u.userName));
      if (r.body.Resources.length === 0 || seen.length >= 6) break;
      expect(r.body.itemsPerPage).toBeLessThan(6);
      startIndex += r.body.itemsPerPage;
    }
    expect(seen).toEqual(["big0@example.com", "big1@example.com", "big2@example.com", "big3@example.com", "big4@example.com", "small@example.com"]);
  });

  it("keeps the budget over both types in a root search", async () => {
    const r = await bridge.scim("POST", "/.search", { schemas: ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], count: 1000 });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(6);
    expect(r.body.itemsPerPage).toBe(2);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(2.5 * MIB + 1024);
  });
});

describe("response byte budget smaller than one resource", () => {
  const bridge = useBridge({ SCIM_BRIDGE_MAX_BODY_BYTES: String(2 * 1024 * 1024), SCIM_BRIDGE_MAX_RESPONSE_BYTES: String(100 * 1024) });

  it("still returns a resource larger than the budget, alone on its page", async () => {
    await create(bridge, "Users", userBody("huge@example.com", { title: "x".repeat(1_000_000) }));
    await create(bridge, "Users", userBody("after@example.com"));
    const first = await bridge.scim("GET", "/Users");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 1 });
    expect(first.body.Resources[0].title).toHaveLength(1_000_000);
    const second = await bridge.scim("GET", "/Users?startIndex=2");
    expect(second.body).toMatchObject({ totalResults: 2, itemsPerPage: 1, startIndex: 2 });
    expect(second.body.Resources[0].userName).toBe("after@example.com");
  });
});

/**
 * What lenient SCIM servers accept and admins' tools send (issue 13's interop gaps), over real
 * HTTP against a bridge on loopback.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { create, expectScimError, useBridge, userBody } from "../support/scim.js";

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

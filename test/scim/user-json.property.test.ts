/**
 * List pages write users straight from their stored JSON text (render.ts, userJson) instead of
 * building the object and serialising it. That text must be byte for byte what the object gives,
 * for every user the bridge can store, with or without groups and the computed access extension;
 * where the splice is not safe it must step aside, never write something else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { openDatabase } from "../../src/db/database.js";
import { Directory, type MemberRef, type UserRow } from "../../src/db/directory.js";
import type { JsonObject } from "../../src/domain/json.js";
import { coerceResourceBody } from "../../src/scim/coerce.js";
import { renderUser, userJson } from "../../src/scim/render.js";
import { ACCESS_EXTENSION, ENTERPRISE_USER, userResource } from "../../src/scim/schema.js";
import { canSplice, hasKey } from "../../src/scim/stored-shape.js";
import { FUZZ_SEED, fuzzRuns } from "../support/fuzz-harness.js";
import { validUser } from "../support/fuzz-resources.js";

const BASE = "https://bridge.example.com/scim/v2";

const groupsArb = fc.array(fc.record({ id: fc.uuid(), display: fc.oneof(fc.string(), fc.constantFrom('Tech "A"', "Ünï\\cødé", "😀")) }), { maxLength: 3 });
const extensionArb: fc.Arbitrary<JsonObject | undefined> = fc.option(
  fc.array(fc.record({ app: fc.constantFrom("halopsa", "huntress"), state: fc.constantFrom("active", "invited"), role: fc.string() }), { minLength: 1, maxLength: 2 }).map((apps) => ({ [ACCESS_EXTENSION]: { apps } })),
  { nil: undefined },
);

describe("a user written from its stored text", () => {
  const directory = new Directory(openDatabase(":memory:"), systemClock);
  let n = 0;
  const store = (body: Record<string, unknown>): UserRow => {
    const attributes = coerceResourceBody(userResource, body);
    const inserted = directory.write(() => directory.insertUser({ active: true, ...attributes }));
    // Read back the way a list page reads it.
    return directory.users.get(inserted.id)!;
  };

  it("is the same text as the rendered object, whenever it is written at all", () => {
    fc.assert(
      fc.property(validUser, groupsArb, extensionArb, (user, groups: MemberRef[], extensions) => {
        const row = store(user(`user${n++}@example.com`));
        const json = userJson(row, groups, BASE, extensions);
        if (json !== undefined) expect(json).toBe(JSON.stringify(renderUser(row, groups, BASE, extensions)));
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(300) },
    );
  });

  it("is written for the users IdPs send (no quote or backslash in a value), and is the same text", () => {
    const plain = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/["\\]/.test(s) && s.trim() !== "");
    const typical = fc.record(
      {
        name: fc.record({ givenName: plain, familyName: plain }),
        displayName: plain,
        title: plain,
        phoneNumbers: fc.array(fc.record({ value: plain, type: fc.constantFrom("work", "mobile") }), { minLength: 1, maxLength: 2 }),
        [ENTERPRISE_USER]: fc.record({ department: plain, employeeNumber: plain, manager: fc.record({ value: fc.uuid() }) }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(typical, fc.boolean(), groupsArb, extensionArb, (attributes, active, groups: MemberRef[], extensions) => {
        const userName = `typical${n++}@example.com`;
        const row = store({ userName, active, emails: [{ value: userName, type: "work", primary: true }], ...attributes });
        expect(userJson(row, groups, BASE, extensions)).toBe(JSON.stringify(renderUser(row, groups, BASE, extensions)));
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(300) },
    );
  });

  it("steps aside for text it cannot splice safely", () => {
    expect(canSplice('{"userName":"a","emails":[]}')).toBe(false);
    expect(canSplice('{"userName":"a\\"b"}')).toBe(false);
    expect(canSplice('{"userName":"a","urn:x":{"apps":1}}', ["urn:x"])).toBe(false);
    expect(canSplice('{"userName":"a","name":{"givenName":"b"}}')).toBe(true);
    expect(hasKey('{"userName":"a","name":{"givenName":"b"}}', "name")).toBe(true);
    const row = store({ userName: "served-names@example.com" });
    const withId = { ...row, storedJson: '{"userName":"served-names@example.com","id":"forged"}' };
    expect(userJson(withId, undefined, BASE)).toBeUndefined();
  });

  it("leaves a stored empty array to the object, which omits it", () => {
    // Input coercion drops empty arrays; a row stored before it did still holds one.
    const inserted = directory.write(() => directory.insertUser({ userName: "empty@example.com", emails: [], phoneNumbers: [{ value: "+1 555" }] }));
    const row = directory.users.get(inserted.id)!;
    expect(userJson(row, undefined, BASE)).toBeUndefined();
    expect(renderUser(row, undefined, BASE)).not.toHaveProperty("emails");
  });
});

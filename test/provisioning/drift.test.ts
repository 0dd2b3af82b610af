import { describe, expect, it } from "vitest";
import type { RemoteAccount } from "../../src/domain/connector.js";
import type { AppAccount, Profile } from "../../src/domain/model.js";
import { findDrift } from "../../src/provisioning/drift.js";

const profile = (email: string, displayName = "Ada Lovelace"): Profile => ({ userName: email, email, givenName: "Ada", familyName: "Lovelace", displayName });
const remote = (externalId: string, email: string, enabled = true, over: Partial<RemoteAccount> = {}): RemoteAccount => ({
  externalId,
  email,
  name: "Ada Lovelace",
  enabled,
  role: "agent",
  lastLoginAt: null,
  ...over,
});
const account = (userId: string, externalId: string | null, state: AppAccount["state"], email = `${userId}@example.com`): AppAccount => ({
  userId,
  app: "halopsa",
  externalId,
  role: "agent",
  state,
  profile: profile(email),
  settings: {},
  createdByBridge: true,
  lastSyncAt: null,
  lastError: null,
  instance: "halopsa:test",
  conflictWith: null,
  createUnsettledAt: null,
  releasedAt: null,
});
const userNameOf = (userId: string) => `${userId}@example.com`;

describe("drift", () => {
  it("finds nothing when the app and the map agree", () => {
    expect(findDrift([remote("1", "u1@example.com")], [account("u1", "1", "active")], new Map(), userNameOf)).toEqual([]);
  });

  it("reports an enabled agent that nobody is granted as an orphan, and ignores disabled unknown agents", () => {
    const items = findDrift([remote("9", "gone@example.com"), remote("10", "old@example.com", false)], [], new Map(), userNameOf);
    expect(items).toEqual([{ kind: "orphan", externalId: "9", email: "gone@example.com", userId: null, detail: { name: "Ada Lovelace", lastLoginAt: null } }]);
  });

  it("reports an agent matched by email (any case) to a granted user but missing from the map as unlinked", () => {
    const items = findDrift([remote("5", "Ada@Example.com")], [], new Map([["ada@example.com", { userId: "u1", role: "agent" }]]), userNameOf);
    expect(items).toMatchObject([{ kind: "unlinked", userId: "u1", externalId: "5", detail: { wantedRole: "agent" } }]);
  });

  it("reports agents disabled or enabled outside the bridge", () => {
    const items = findDrift(
      [remote("1", "u1@example.com", false), remote("2", "u2@example.com", true)],
      [account("u1", "1", "active"), account("u2", "2", "disabled")],
      new Map(),
      userNameOf,
    );
    expect(items.map((i) => [i.kind, i.userId])).toEqual([
      ["disabled-outside", "u1"],
      ["enabled-outside", "u2"],
    ]);
  });

  it("reports email, name and role changed outside, with expected and actual values", () => {
    const items = findDrift([remote("1", "new@example.com", true, { name: "Ada King", role: "admin" })], [account("u1", "1", "active")], new Map(), userNameOf);
    expect(items).toEqual([
      {
        kind: "changed-outside",
        externalId: "1",
        email: "new@example.com",
        userId: "u1",
        detail: {
          email: { expected: "u1@example.com", actual: "new@example.com" },
          name: { expected: "Ada Lovelace", actual: "Ada King" },
          role: { expected: "agent", actual: "admin" },
        },
      },
    ]);
  });

  it("reports each of two enabled agents whose emails share a matching key as a duplicate naming the other, but not a disabled one", () => {
    const items = findDrift(
      [remote("1", "zoé@example.com"), remote("2", " ZOE\u0301@example.com ", true, { name: "Zoe by hand" }), remote("3", "zoé@example.com", false)],
      [account("u1", "1", "active", "zoé@example.com")],
      new Map(),
      userNameOf,
    );
    expect(items.filter((i) => i.kind === "duplicate")).toEqual([
      { kind: "duplicate", externalId: "1", userId: null, email: "zoé@example.com", detail: { name: "Ada Lovelace", sameEmailAs: [{ externalId: "2", name: "Zoe by hand", email: " ZOE\u0301@example.com " }] } },
      { kind: "duplicate", externalId: "2", userId: null, email: " ZOE\u0301@example.com ", detail: { name: "Zoe by hand", sameEmailAs: [{ externalId: "1", name: "Ada Lovelace", email: "zoé@example.com" }] } },
    ]);
  });

  it("reports accounts the map holds but the app no longer has", () => {
    const items = findDrift([], [account("u1", "1", "active"), account("u2", null, "error")], new Map(), userNameOf);
    expect(items).toEqual([{ kind: "missing", externalId: "1", userId: "u1", email: "u1@example.com", detail: { mapState: "active" } }]);
  });
});

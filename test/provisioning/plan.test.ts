import { describe, expect, it } from "vitest";
import type { AccountState, AppAccount, Profile, WantedAccess } from "../../src/domain/model.js";
import { plan, planApp } from "../../src/provisioning/plan.js";

const profile: Profile = { userName: "ada@example.com", email: "ada@example.com", givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace" };
const settings = { haloRoles: ["Agent"], teams: ["1st Line"] };

function wanted(over: Partial<WantedAccess> = {}): WantedAccess {
  return { app: "halopsa", role: "agent", settings, profile, reasons: [{ rule: 0, group: "HaloPSA Agents", role: "agent" }], ...over };
}

const links = { instance: "halopsa:test", conflictWith: null, createUnsettledAt: null, releasedAt: null } as const;

function account(state: AccountState, externalId: string | null, over: Partial<AppAccount> = {}): AppAccount {
  return { userId: "u1", app: "halopsa", externalId, role: "agent", state, profile, settings, createdByBridge: true, lastSyncAt: null, lastError: null, ...links, ...over };
}

type Want = "none" | "same" | "otherRole" | "otherProfile" | "otherSettings";
const wants: Record<Want, WantedAccess | undefined> = {
  none: undefined,
  same: wanted(),
  otherRole: wanted({ role: "admin" }),
  otherProfile: wanted({ profile: { ...profile, email: "ada.l@example.com" } }),
  otherSettings: wanted({ settings: { ...settings, teams: ["2nd Line"] } }),
};

// Every (identity-map state × external id × wanted) combination and the one action it must produce.
// "-" means nothing to do. Written out by hand: the table is the specification.
const table: [AccountState | "absent", string | null, Want, string][] = [
  ["absent", null, "none", "-"],
  ["absent", null, "same", "create"],
  ["absent", null, "otherRole", "create"],
  ["absent", null, "otherProfile", "create"],
  ["absent", null, "otherSettings", "create"],
];
for (const state of ["pending", "invited", "active"] as const) {
  table.push(
    [state, "42", "none", "deactivate"],
    [state, "42", "same", "-"],
    [state, "42", "otherRole", "changeRole"],
    [state, "42", "otherProfile", "update"],
    [state, "42", "otherSettings", "update"],
    [state, null, "none", "discard"],
    [state, null, "same", "create"],
    [state, null, "otherRole", "create"],
    [state, null, "otherProfile", "create"],
    [state, null, "otherSettings", "create"],
  );
}
for (const state of ["disabled", "removed", "error"] as const) {
  table.push(
    [state, "42", "none", state === "error" ? "deactivate" : "-"],
    [state, "42", "same", "reactivate"],
    [state, "42", "otherRole", "reactivate"],
    [state, "42", "otherProfile", "reactivate"],
    [state, "42", "otherSettings", "reactivate"],
    [state, null, "none", state === "error" ? "discard" : "-"],
    [state, null, "same", "create"],
    [state, null, "otherRole", "create"],
    [state, null, "otherProfile", "create"],
    [state, null, "otherSettings", "create"],
  );
}

describe("plan", () => {
  it.each(table)("account %s (external id %s), wanted %s → %s", (state, externalId, want, expected) => {
    const actual = state === "absent" ? undefined : account(state, externalId);
    const action = planApp("u1", "halopsa", wants[want], actual, "not-granted");
    expect(action?.kind ?? "-").toBe(expected);
  });

  it("covers every state of the identity map", () => {
    const states = new Set(table.map(([s]) => s));
    expect([...states].sort()).toEqual(["absent", "active", "disabled", "error", "invited", "pending", "removed"]);
  });

  it("creates with the wanted role, settings and profile", () => {
    expect(planApp("u1", "halopsa", wanted(), undefined, "not-granted")).toEqual({ kind: "create", app: "halopsa", userId: "u1", role: "agent", settings, profile });
  });

  it("carries the previous profile on an update, so an email change can be flagged", () => {
    const next = { ...profile, email: "new@example.com" };
    const action = planApp("u1", "halopsa", wanted({ profile: next }), account("active", "42"), "not-granted");
    expect(action).toMatchObject({ kind: "update", externalId: "42", profile: next, previous: { profile, settings } });
  });

  it("says why access is removed", () => {
    for (const reason of ["not-granted", "inactive", "deleted"] as const) {
      expect(planApp("u1", "halopsa", undefined, account("active", "42"), reason)).toMatchObject({ kind: "deactivate", externalId: "42", reason });
    }
  });

  it("changes role and re-sends profile and settings with it", () => {
    expect(planApp("u1", "halopsa", wanted({ role: "admin" }), account("active", "42"), "not-granted")).toEqual({
      kind: "changeRole",
      app: "halopsa",
      userId: "u1",
      externalId: "42",
      role: "admin",
      previousRole: "agent",
      settings,
      profile,
    });
  });

  it("treats settings with the same content in another key order as equal", () => {
    const reordered = wanted({ settings: { teams: ["1st Line"], haloRoles: ["Agent"] } });
    expect(planApp("u1", "halopsa", reordered, account("active", "42"), "not-granted")).toBeUndefined();
  });

  it("plans every configured app and every app that still holds an account", () => {
    const actions = plan("u1", ["halopsa"], [], [account("active", "7", { app: "retired-app" })], "inactive");
    expect(actions).toEqual([{ kind: "deactivate", app: "retired-app", userId: "u1", externalId: "7", reason: "inactive", profile }]);
    expect(plan("u1", ["halopsa"], [wanted()], [], "not-granted").map((a) => a.kind)).toEqual(["create"]);
  });

  it("is a no-op when wanted and actual agree, so re-running a plan never duplicates", () => {
    expect(plan("u1", ["halopsa"], [wanted()], [account("active", "42")], "not-granted")).toEqual([]);
  });
});

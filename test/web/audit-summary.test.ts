import { describe, expect, it } from "vitest";
import { changeSummary } from "../../src/admin/web/audit-summary.js";

describe("audit change summaries", () => {
  it("says what changed from what to what, and what a new record holds", () => {
    expect(changeSummary({ state: "active", role: "agent", version: 1 }, { state: "disabled", role: "admin", version: 2 })).toEqual(["state active → disabled", "role agent → admin"]);
    expect(changeSummary({ members: ["a", "b"] }, { members: ["b", "c"] })).toEqual(["members: added c; removed a"]);
    expect(changeSummary(undefined, { userName: "ada", active: true })).toEqual(["userName: ada", "active: true"]);
    expect(changeSummary({ state: "x" }, { state: "x", summary: "create halopsa account" })).toEqual(["create halopsa account"]);
  });
});

/**
 * Rules checked against the directory: which rules match no group, the closest group name offered
 * for a likely typo, and the empty directory of a new bridge said once; the watch logs each change
 * of the result once.
 */
import { describe, expect, it, vi } from "vitest";
import type { DirectoryGroup } from "../../src/domain/readers.js";
import { editDistance } from "../../src/domain/string-distance.js";
import { ruleSchema, type Rule } from "../../src/provisioning/config-schema.js";
import { checkRulesAgainstDirectory, closestGroupName } from "../../src/provisioning/rule-check.js";
import { RuleWatch } from "../../src/provisioning/rule-watch.js";
import { capturingLogger } from "../support/io.js";

const group = (displayName: string, id = `id-${displayName}`, externalId: string | null = null): DirectoryGroup => ({ id, displayName, externalId });
const rule = (g: unknown, app = "huntress", role = "admin"): Rule => ruleSchema.parse({ group: g, app, role });

describe("editDistance", () => {
  it("counts inserts, deletes, substitutions and adjacent swaps as one edit each", () => {
    expect(editDistance("", "")).toBe(0);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("admin", "admins")).toBe(1);
    expect(editDistance("admins", "admin")).toBe(1);
    expect(editDistance("agents", "agnets")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("ca", "abc")).toBe(3); // optimal string alignment: a swapped pair is not edited again
  });

  it("is symmetric", () => {
    for (const [a, b] of [["Huntress Admin", "Huntress Admins"], ["ops", "dev"], ["abcdef", "badcfe"]] as const) expect(editDistance(a, b)).toBe(editDistance(b, a));
  });
});

describe("closestGroupName", () => {
  const names = ["HaloPSA Admins", "HaloPSA Agents", "Huntress Admins", "Huntress Users"];

  it("suggests the group one letter away, ignoring case, width and spacing", () => {
    expect(closestGroupName("Huntress Admin", names)).toBe("Huntress Admins");
    expect(closestGroupName("HaloPSA Agent", names)).toBe("HaloPSA Agents");
    expect(closestGroupName("halopsa  agnets", names)).toBe("HaloPSA Agents");
    expect(closestGroupName("ＨｕｎｔｒｅｓｓＵｓｅｒ", ["Huntress User"])).toBe("Huntress User");
  });

  it("suggests nothing when no group is reasonably close", () => {
    expect(closestGroupName("Finance", names)).toBeNull();
    expect(closestGroupName("Ops", ["Dev", "QA"])).toBeNull();
    expect(closestGroupName("Huntress", names)).toBeNull();
    expect(closestGroupName("Huntress Admins", ["Huntress Users"])).toBeNull();
    expect(closestGroupName("Anything", [])).toBeNull();
  });

  it("picks the closest of several near names, the first pushed on a tie", () => {
    expect(closestGroupName("Huntress Adminz", ["Huntress Admins", "Huntress Admin"])).toBe("Huntress Admins");
    expect(closestGroupName("Huntress Admins2", ["Huntress Admins1", "Huntress Admins3"])).toBe("Huntress Admins1");
    expect(closestGroupName("Huntress Admins", ["Huntress Admin", "Huntress Admins"])).toBe("Huntress Admins");
  });
});

describe("checkRulesAgainstDirectory", () => {
  it("reports a rule matching no group with the closest name, and counts the groups each rule matches", () => {
    const rules = [rule("huntress admins"), rule("Huntress Admin"), rule({ id: "g-9" }), rule({ externalId: "ext-1" })];
    const check = checkRulesAgainstDirectory(rules, [group("Huntress Admins"), group("Other", "g-2", "ext-1")]);
    expect(check.state).toBe("unmatched");
    expect(check.groupsInDirectory).toBe(2);
    expect(check.rules.map((s) => [s.index, s.matchedGroups, s.problem?.suggestion])).toEqual([
      [0, 1, undefined],
      [1, 0, "Huntress Admins"],
      [2, 0, null],
      [3, 1, undefined],
    ]);
    expect(check.rules[1]!.problem).toEqual({
      kind: "no-group",
      suggestion: "Huntress Admins",
      message: "rules[1]: group 'Huntress Admin' matches no group in the directory; did you mean 'Huntress Admins'?",
    });
    expect(check.rules[2]!.problem!.message).toBe("rules[2]: group id 'g-9' matches no group in the directory");
  });

  it("is ok when every rule matches", () => {
    expect(checkRulesAgainstDirectory([rule("A")], [group("a")]).state).toBe("ok");
    expect(checkRulesAgainstDirectory([], []).state).toBe("ok");
  });

  it("says 'no groups yet' once for an empty directory instead of a problem per rule", () => {
    const check = checkRulesAgainstDirectory([rule("A"), rule("B")], []);
    expect(check.state).toBe("no-groups-yet");
    expect(check.rules.map((s) => s.problem)).toEqual([null, null]);
  });
});

describe("RuleWatch", () => {
  function watch(rules: Rule[]) {
    let groups: DirectoryGroup[] = [];
    const { log, lines } = capturingLogger("info");
    const w = new RuleWatch({ rules, groups: { allGroups: () => groups }, log });
    const logged = () => lines.map((l) => JSON.parse(l) as { level: string; message: string });
    return { w, logged, setGroups: (g: DirectoryGroup[]) => (groups = g) };
  }

  it("logs an empty directory once as information, then each rule that becomes unmatched once, and its recovery", () => {
    const { w, logged, setGroups } = watch([rule("Huntress Admins"), rule("Huntress Users", "huntress", "standard")]);
    w.recheck();
    w.groupsChanged();
    expect(logged()).toEqual([expect.objectContaining({ level: "info", message: "rules: no groups yet: rules will be checked when the IdP pushes groups" })]);

    setGroups([group("Huntress Admins"), group("Huntress Users")]);
    w.groupsChanged();
    w.groupsChanged();
    expect(logged()).toHaveLength(1);

    setGroups([group("Huntress Admins (old)"), group("Huntress Users")]);
    w.groupsChanged();
    w.groupsChanged();
    expect(logged().slice(1)).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "rules[0]: group 'Huntress Admins' matches no group in the directory (nobody gets huntress admin through this rule until it does)",
      }),
    ]);

    setGroups([group("Huntress Admin"), group("Huntress Users")]);
    w.groupsChanged();
    expect(logged().slice(2)).toEqual([expect.objectContaining({ level: "warn", message: expect.stringContaining("did you mean 'Huntress Admin'?") })]);

    setGroups([group("Huntress Admins"), group("Huntress Users")]);
    w.groupsChanged();
    expect(logged().slice(3)).toEqual([expect.objectContaining({ level: "info", message: "rules[0]: group 'Huntress Admins' matches a group in the directory again" })]);
  });

  it("waits for the IdP to stop changing groups before it checks, so a directory pushed group by group is no warning", () => {
    vi.useFakeTimers();
    try {
      let groups: DirectoryGroup[] = [group("Huntress Admins")];
      const { log, lines } = capturingLogger("info");
      const w = new RuleWatch({ rules: [rule("Huntress Admins"), rule("Huntress Users")], groups: { allGroups: () => groups }, log, settleMs: 2000 });
      w.groupsChanged();
      vi.advanceTimersByTime(1500);
      groups = [group("Huntress Admins"), group("Huntress Users")];
      w.groupsChanged();
      vi.advanceTimersByTime(1999);
      expect(lines).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(["rules: every rule matches a group in the directory"]);
      groups = [group("Huntress Admins")];
      w.groupsChanged();
      w.stop();
      vi.advanceTimersByTime(5000);
      expect(lines).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("logs an error, and does not throw, when the groups cannot be read after a change", () => {
    const { log, lines } = capturingLogger("info");
    const w = new RuleWatch({ rules: [rule("A")], groups: { allGroups: () => { throw new Error("database is locked"); } }, log });
    expect(() => w.groupsChanged()).not.toThrow();
    expect(lines.join("\n")).toContain("rules could not be checked against the directory after a group change");
  });
});

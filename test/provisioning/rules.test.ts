import { describe, expect, it } from "vitest";
import { z } from "zod";
import { checkRules, defaultApps, ruleSchema, type AppConfig, type Rule } from "../../src/provisioning/config-schema.js";
import { explain, profileOf, wantedAccess } from "../../src/provisioning/rules.js";
import { type DirectoryGroup, type DirectoryUser } from "../../src/domain/readers.js";

const user = (over: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id: "u1",
  userName: "ada@example.com",
  active: true,
  attributes: { userName: "ada@example.com", name: { givenName: "Ada", familyName: "Lovelace" }, emails: [{ value: "ada@work.example", type: "work" }] },
  ...over,
});
const group = (displayName: string, id = displayName, externalId: string | null = null): DirectoryGroup => ({ id, displayName, externalId });
const rules: Rule[] = [
  ruleSchema.parse({ group: "HaloPSA Agents", app: "halopsa", role: "agent" }),
  ruleSchema.parse({ group: { externalId: "ext-admins" }, app: "halopsa", role: "admin", settings: { teams: ["Escalations"] } }),
];

describe("rules", () => {
  it("grants nothing without a matching group", () => {
    expect(wantedAccess(user(), [group("Sales")], defaultApps, rules)).toEqual([]);
  });

  it("grants the role of the matching rule with the role's default settings, matching displayName case-insensitively", () => {
    const [w] = wantedAccess(user(), [group("haloPSA agents")], defaultApps, rules);
    expect(w).toMatchObject({ app: "halopsa", role: "agent", settings: { haloRoles: ["Agent"], teams: ["1st Line"] } });
    expect(explain(w!)).toBe("agent because member of 'haloPSA agents' (rules[0])");
  });

  it("lets the role declared first win when several rules grant the same app, and explains both", () => {
    const [w] = wantedAccess(user(), [group("HaloPSA Agents"), group("Admins", "g2", "ext-admins")], defaultApps, rules);
    expect(w!.role).toBe("admin");
    // The winning rule's settings override the role's defaults.
    expect(w!.settings).toEqual({ haloRoles: ["Administrator"], teams: ["Escalations"] });
    expect(explain(w!)).toBe("admin because member of 'Admins (externalId match)' (rules[1]); also agent via 'HaloPSA Agents' (rules[0])");
  });

  it("grants nothing to an inactive user, whatever the groups", () => {
    expect(wantedAccess(user({ active: false }), [group("HaloPSA Agents")], defaultApps, rules)).toEqual([]);
  });

  it("derives the profile: primary or work email, names, display name", () => {
    expect(profileOf(user())).toEqual({ userName: "ada@example.com", email: "ada@work.example", givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace" });
    const primary = user({ attributes: { emails: [{ value: "a@home" }, { value: "a@primary", primary: true }], displayName: "A. L." } });
    expect(profileOf(primary)).toMatchObject({ email: "a@primary", displayName: "A. L." });
    expect(profileOf(user({ attributes: {} }))).toMatchObject({ email: "ada@example.com", displayName: "ada@example.com" });
  });

  it("refuses rules that name an unknown app or role, or settings the app does not know, naming the rule", () => {
    const schema = z
      .object({ apps: z.array(z.any()), rules: z.array(ruleSchema) })
      .superRefine((c, ctx) => checkRules(c.apps as AppConfig[], c.rules, ctx));
    const r = schema.safeParse({
      apps: defaultApps,
      rules: [
        { group: "x", app: "huntress", role: "agent" },
        { group: "x", app: "halopsa", role: "owner" },
        { group: "x", app: "halopsa", role: "agent", settings: { colour: "blue" } },
      ],
    });
    expect(r.success).toBe(false);
    const messages = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(messages).toEqual([
      'rules.0.app: no app named "huntress" (apps: halopsa)',
      'rules.1.role: "owner" is not a role of app "halopsa" (roles: admin, agent)',
      expect.stringMatching(/^rules\.2\.settings: Unrecognized key/),
    ]);
  });
});

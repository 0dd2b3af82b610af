/**
 * The home page warns admins, in a real browser, about a rule that matches no group in the
 * directory, with the closest group name; reviewers, who cannot change rules, are not shown it.
 */
import { describe, expect, it } from "vitest";
import { issueToken } from "../../src/auth/tokens.js";
import { systemClock } from "../../src/clock.js";
import { TokenStore } from "../../src/db/tokens.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { patch } from "../support/scim.js";
import { screenshot, signIn, usePages } from "./browser.js";

describe("review page: rules that match no group", () => {
  const t = usePages();

  const rename = async (displayName: string) => {
    const r = await t.w.bridge.scim("PATCH", `/Groups/${t.w.groups["Huntress Admins"]}`, patch({ op: "replace", path: "displayName", value: displayName }));
    expect(r.status, r.text).toBe(204);
  };
  const warning = () => t.page.getByRole("region", { name: /match(es)? no group/ });

  it("shows an admin each unmatched rule with the closest group name, and nothing once the rule matches again", async () => {
    await signIn(t.page, t.w.origin, ADMIN_TOKEN);
    expect(await warning().count()).toBe(0);

    // The IdP renames the group a rule names: the rule now grants nobody.
    await rename("Huntress Admin");
    await t.page.reload();
    await expect.poll(() => warning().count()).toBe(1);
    expect(await warning().getByRole("heading", { level: 2 }).textContent()).toBe("A rule matches no group");
    expect(await warning().getByRole("listitem").allTextContents()).toEqual([
      "rules[2]: group 'Huntress Admins' → Huntress Account Admin matches no group in the directory. Did you mean Huntress Admin?",
    ]);
    expect(await warning().textContent()).toContain("Nobody gets access through this rule");
    await screenshot(t.page, "rule-warnings-unmatched");

    await rename("Huntress Admins");
    await t.page.reload();
    expect(await warning().count()).toBe(0);
  });

  it("does not show it to a reviewer, who cannot change rules", async () => {
    await rename("Huntress Admin");
    try {
      const reviewer = issueToken(new TokenStore(t.w.bridge.running.db, systemClock), "rita-rules", "reviewer").token;
      await signIn(t.page, t.w.origin, reviewer);
      expect(await t.page.getByRole("heading", { level: 1 }).textContent()).toBe("Task queue");
      expect(await warning().count()).toBe(0);
    } finally {
      await rename("Huntress Admins");
    }
  });
});

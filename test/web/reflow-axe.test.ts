/**
 * Every page of the console at desktop, 640 px and 320 px (WCAG 1.4.10 Reflow: 320 CSS px is
 * 1280 px at 400% zoom): axe-core finds no WCAG 2.1 A or AA violation, and nothing scrolls
 * sideways. The data is the long kind real MSPs have: long names and emails, a held change set,
 * manual tasks in every state, an inactive user, and the audit trail all of that leaves.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";
import { axeViolations, createUser, horizontalOverflow, joinGroup, launchChromium, leaveGroup, LIMITED_CONFIG, newContext, screenshot, signIn, startWebBridge, type WebBridge } from "./browser.js";

const WIDTHS = [1280, 640, 320] as const;

describe("every page reflows and passes axe-core", () => {
  let browser: Browser;
  let w: WebBridge;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let longUser = "";
  let inactiveUser = "";

  beforeAll(async () => {
    [browser, w] = await Promise.all([launchChromium(), startWebBridge({}, LIMITED_CONFIG)]);
    longUser = await createUser(w, "Maximiliana Alexandrova-Worthington", "maximiliana.alexandrova-worthington@subsidiary-holdings.example.com");
    const other = await createUser(w, "Bartholomew Featherstonehaugh", "bartholomew.featherstonehaugh@example.com");
    inactiveUser = other;
    for (const g of ["HaloPSA Agents", "Huntress Admins", "Portal Users"] as const) await joinGroup(w, longUser, g);
    await joinGroup(w, other, "HaloPSA Agents");
    await joinGroup(w, other, "Huntress Users");
    const enabled = () => [...w.bridge.running.haloPsaSimulator!.state.agents.values()].filter((a) => !a.isapiagent && !a.isdisabled).length;
    await waitFor(() => enabled() === 2, 10_000, "two agents");
    // Two leave at once over a limit of 1: one change set waits for approval.
    await leaveGroup(w, longUser, "HaloPSA Agents");
    await leaveGroup(w, other, "HaloPSA Agents");
    // An inactive user, as Okta deactivates.
    const r = await w.bridge.scim("PATCH", `/Users/${other}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] });
    expect(r.status, r.text).toBe(200);
    await w.bridge.running.worker.drain();
    context = await newContext(browser, problems);
    page = await context.newPage();
    await signIn(page, w.origin, ADMIN_TOKEN);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await w?.bridge.close();
  });

  it("gives the audit log's Concerning column room at 640 px, names each Details toggle, links step URLs and says why an inactive user has no access", async () => {
    await page.setViewportSize({ width: 640, height: 900 });
    await page.goto(`${w.origin}/admin/audit`);
    const concerning = await page.getByRole("columnheader", { name: "Concerning" }).boundingBox();
    expect(concerning!.width).toBeGreaterThan(100);
    const toggles = await page.locator("summary").allTextContents();
    expect(toggles.length).toBeGreaterThan(1);
    for (const t of toggles) expect(t).toMatch(/^Raw JSON of event \d+$/);

    await page.goto(`${w.origin}/admin`);
    const portal = page.locator("ol.steps a[href^='https://log360.example.com']").first();
    expect(await portal.getAttribute("rel")).toBe("noopener noreferrer");

    await page.goto(`${w.origin}/admin/users/${inactiveUser}`);
    expect(await page.locator("table").first().textContent()).toContain("no access (the user is inactive)");
  });

  const pages = (): [string, string][] => [
    ["queue", "/admin"],
    ["user", `/admin/users/${longUser}`],
    ["drift", "/admin/drift"],
    ["audit", "/admin/audit"],
    ["approvals", "/admin/approvals"],
    ["users", "/admin/users"],
    ["jobs", "/admin/jobs"],
    ["status", "/admin/status"],
  ];

  for (const width of WIDTHS) {
    it(`has no WCAG 2.1 AA violation and no sideways scrolling at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 900 });
      const found: Record<string, unknown> = {};
      for (const [name, path] of pages()) {
        await page.goto(`${w.origin}${path}`);
        expect(new URL(page.url()).pathname, name).toBe(path);
        const violations = await axeViolations(page);
        const { overflow, culprits } = await horizontalOverflow(page);
        if (violations.length > 0 || overflow > 0) found[name] = { violations, overflow, culprits };
        await screenshot(page, `reflow-${name}-${width}`);
      }
      expect(found).toEqual({});
      expect(problems).toEqual([]);
    });
  }
});

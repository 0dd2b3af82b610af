/**
 * What the browser tests share: Debian's Chromium driven by playwright-core (nothing is
 * downloaded), a real bridge on loopback with HaloPSA and a manual Huntress app, SCIM helpers
 * that act like the IdP, sign-in, and screenshots saved under test-artifacts/web/.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { startBridge, type TestBridge } from "../support/bridge.js";
import { create, patch, userBody } from "../support/scim.js";

export const CHROMIUM = "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** The default HaloPSA app and rules, plus Huntress by hand (issue 4) and an invite portal. */
export const CONFIG = `
apps:
  - name: halopsa
    type: halopsa
    roles:
      - { name: admin, haloRoles: [Administrator], teams: [2nd Line] }
      - { name: agent, haloRoles: [Agent], teams: [1st Line] }
    reassignTicketsTo: { team: Triage }
  - { name: huntress, type: manual, template: huntress }
  # An invite-based portal whose tasks are due at once, to see overdue work.
  - { name: portal, type: manual, template: invite-portal, portalUrl: "https://log360.example.com", slaHours: 0.0001 }
rules:
  - { group: HaloPSA Admins, app: halopsa, role: admin }
  - { group: HaloPSA Agents, app: halopsa, role: agent }
  - { group: Huntress Admins, app: huntress, role: admin }
  - { group: Huntress Users, app: huntress, role: standard }
  - { group: Portal Users, app: portal, role: user }
provisioning: { reconcileIntervalMinutes: 0 }
`;

/** CONFIG with a deprovision limit of 1, so two deactivations at once hold one for approval. */
export const LIMITED_CONFIG = CONFIG.replace("provisioning: { reconcileIntervalMinutes: 0 }", "provisioning: { reconcileIntervalMinutes: 0, deprovisionLimit: { count: 1, windowMinutes: 60 } }");

export const GROUPS = ["HaloPSA Admins", "HaloPSA Agents", "Huntress Admins", "Huntress Users", "Portal Users"] as const;
export type GroupName = (typeof GROUPS)[number];

export interface WebBridge {
  readonly bridge: TestBridge;
  /** http://127.0.0.1:port */
  readonly origin: string;
  readonly groups: Readonly<Record<GroupName, string>>;
}

export async function startWebBridge(env: Record<string, string> = {}, config = CONFIG): Promise<WebBridge> {
  const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-web-")), "bridge.yaml");
  writeFileSync(file, config);
  const bridge = await startBridge({ SCIM_BRIDGE_CONFIG: file, ...env });
  const groups = {} as Record<GroupName, string>;
  for (const name of GROUPS) groups[name] = (await create(bridge, "Groups", { displayName: name })).id;
  return { bridge, origin: bridge.running.url, groups };
}

/** Creates a user as Entra would (userPrincipalName, name, work email) and returns its SCIM id. */
export async function createUser(w: WebBridge, displayName: string, email: string): Promise<string> {
  const [givenName, ...rest] = displayName.split(" ");
  const body = userBody(email, { name: { givenName, familyName: rest.join(" ") }, displayName, emails: [{ type: "work", value: email, primary: true }] });
  return (await create(w.bridge, "Users", body)).id;
}

/** Adds a user to a group over SCIM and waits for the worker to plan it, as a person would see a moment later. */
export async function joinGroup(w: WebBridge, userId: string, group: GroupName): Promise<void> {
  const r = await w.bridge.scim("PATCH", `/Groups/${w.groups[group]}`, patch({ op: "Add", path: "members", value: [{ value: userId }] }));
  expect(r.status, r.text).toBe(204);
  await w.bridge.running.worker.drain();
}

export async function leaveGroup(w: WebBridge, userId: string, group: GroupName): Promise<void> {
  const r = await w.bridge.scim("PATCH", `/Groups/${w.groups[group]}`, patch({ op: "Remove", path: "members", value: [{ value: userId }] }));
  expect(r.status, r.text).toBe(204);
  await w.bridge.running.worker.drain();
}

export async function signIn(page: Page, origin: string, token: string): Promise<void> {
  await page.goto(`${origin}/admin`);
  expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
  await page.getByLabel("Admin or reviewer token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${origin}/admin`);
}

const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts", "web");

/**
 * Structural accessibility problems of the page as it stands (WCAG 2.2: 1.1.1, 1.3.1, 2.4.6,
 * 3.1.1, 4.1.2): a language, exactly one h1 and no skipped heading level, a label on every field,
 * a name on every button and link, an id used once. Page-side code is a string because the test
 * project is typed for Node, without the DOM library.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const out = [];
    if (!document.documentElement.lang) out.push("no lang on <html>");
    const levels = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map((h) => Number(h.tagName[1]));
    if (levels.filter((l) => l === 1).length !== 1) out.push("not exactly one h1");
    levels.forEach((l, i) => { if (i > 0 && l > levels[i - 1] + 1) out.push("heading jumps from h" + levels[i - 1] + " to h" + l); });
    for (const f of document.querySelectorAll("input:not([type=hidden]), textarea, select")) {
      if (f.labels.length === 0 && !f.getAttribute("aria-label")) out.push("field without a label: " + (f.id || f.name));
    }
    for (const b of document.querySelectorAll("button, a[href]")) {
      if (!(b.getAttribute("aria-label") || b.textContent.trim())) out.push("nameless " + b.tagName.toLowerCase());
    }
    for (const img of document.querySelectorAll("img:not([alt])")) out.push("image without alt: " + img.src);
    const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) out.push("duplicate id " + id);
    return out;
  })()`)) as string[];
}

/** axe-core's browser bundle, from the devDependency. */
const AXE_SCRIPT = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** What axe-core reports for one rule the page breaks: the rule, its impact and the offending elements. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * WCAG 2.1 A and AA violations on the page as it stands, found by axe-core (a well-kept WCAG
 * checker; our own structural checks above stay for what they name in words). The bundle comes
 * from node_modules, so nothing is fetched. It is evaluated through the DevTools protocol rather
 * than added as a <script> tag: the console's CSP (script-src 'self') rightly refuses an inline
 * script, and turning the CSP off (bypassCSP) would hide the violations newContext records.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SCRIPT);
  return (await page.evaluate(`(async () => {
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  })()`)) as AxeViolation[];
}

/** How far the page scrolls sideways (0 when it reflows: WCAG 1.4.10), and the widest elements that stick out. */
export async function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return (await page.evaluate(`(() => {
    const root = document.documentElement;
    const overflow = root.scrollWidth - root.clientWidth;
    const culprits = overflow <= 0 ? [] : [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
      // What overflows inside a scrolling box (a wide table in .table-wrap) does not move the page.
      .filter((e) => !e.parentElement.closest(".table-wrap, pre"))
      .slice(0, 8)
      .map((e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().replace(/\\s+/g, ".") : "") + " right=" + Math.round(e.getBoundingClientRect().right));
    return { overflow, culprits };
  })()`)) as { overflow: number; culprits: string[] };
}

/**
 * Checks the page's structure (above) and saves a screenshot (the whole page unless told
 * otherwise) as a test artefact for a person to look at.
 */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  expect(await accessibilityProblems(page), name).toEqual([]);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

/** A context at a readable laptop size that records CSP violations, script errors and missing assets. */
export async function newContext(browser: Browser, problems: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  context.on("weberror", (e) => problems.push(e.error().message));
  // A page may answer 400 or 403 on purpose; a stylesheet, script or icon never may.
  context.on("response", (r) => {
    if (r.request().resourceType() !== "document" && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  return context;
}

/**
 * The hooks every page test shares: Chromium and a web bridge for the file, a fresh context and
 * page per test, and no CSP violation, script error or missing asset on any page a test visited.
 */
export function usePages(env: Record<string, string> = {}): { readonly w: WebBridge; readonly page: Page } {
  return usePagesWith(env, CONFIG);
}

/** usePages on a bridge with its own configuration. */
export function usePagesWith(env: Record<string, string>, config: string): { readonly w: WebBridge; readonly page: Page } {
  let browser: Browser | undefined;
  let w: WebBridge | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let problems: string[] = [];
  beforeAll(async () => {
    [browser, w] = await Promise.all([launchChromium(), startWebBridge(env, config)]);
  });
  afterAll(async () => {
    await browser?.close();
    await w?.bridge.close();
  });
  beforeEach(async () => {
    problems = [];
    context = await newContext(browser!, problems);
    page = await context.newPage();
  });
  afterEach(async () => {
    await context?.close();
    expect(problems).toEqual([]);
  });
  return {
    get w() {
      return w!;
    },
    get page() {
      return page!;
    },
  };
}

/**
 * The example configs people copy stay valid: examples/scim-bridge.yaml and the first example of
 * docs/manual-tasks.md go through the real loader (SCIM_BRIDGE_CONFIG), as `npm start` would read them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appsAndRules, loadConfig } from "../../src/config.js";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLE = join(ROOT, "examples", "scim-bridge.yaml");
/** The secrets the example leaves to the environment, as its comments say. */
const SECRETS = { HALOPSA_CLIENT_SECRET: "example-secret", HUNTRESS_API_KEY: "example-key", HUNTRESS_API_SECRET: "example-secret" };

describe("examples/scim-bridge.yaml", () => {
  it("loads with the real config loader once the secrets it leaves to the environment are set", () => {
    const config = loadConfig({ SCIM_BRIDGE_CONFIG: EXAMPLE, ...SECRETS });
    const { apps, rules } = appsAndRules(config);
    expect(apps.map((a) => [a.name, a.type])).toEqual([
      ["halopsa", "halopsa"],
      ["huntress", "manual"],
      ["huntress-client", "huntress"],
      ["log360", "manual"],
    ]);
    expect(new Set(rules.map((r) => r.app))).toEqual(new Set(apps.map((a) => a.name)));
    expect(config.deprecations).toEqual([]);
    expect(config.halopsa.url).toBe("https://acme.halopsa.com");
  });

  it("says loudly that an apps: key replaces the built-in defaults", () => {
    expect(readFileSync(EXAMPLE, "utf8")).toMatch(/AN `apps:` KEY REPLACES THE BUILT-IN DEFAULTS/);
  });

  it("names the missing Huntress credentials when they are not set", () => {
    expect(() => loadConfig({ SCIM_BRIDGE_CONFIG: EXAMPLE, HALOPSA_CLIENT_SECRET: "example-secret" })).toThrow(/HUNTRESS_API_KEY/);
  });
});

describe("docs/manual-tasks.md", () => {
  it("declares its manual apps next to HaloPSA, so copying the example keeps HaloPSA managed", () => {
    const doc = readFileSync(join(ROOT, "docs", "manual-tasks.md"), "utf8");
    const first = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(first).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-docs-"));
    try {
      const file = join(dir, "config.yaml");
      writeFileSync(file, first!);
      const { apps, rules } = appsAndRules(loadConfig({ SCIM_BRIDGE_CONFIG: file }));
      expect(apps.map((a) => a.name)).toEqual(["halopsa", "huntress", "log360"]);
      expect(rules.filter((r) => r.app === "halopsa").map((r) => r.group)).toEqual([{ displayName: "HaloPSA Admins" }, { displayName: "HaloPSA Agents" }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

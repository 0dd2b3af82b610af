/**
 * The dependency rules of src/, checked over every import so they stay true: the ground floor (src/domain) imports nothing of the bridge; storage (src/db) imports
 * nothing from the protocol, provisioning, the apps or the admin side; connectors (src/apps) never
 * touch the store, the protocol or the admin side; provisioning never reaches up to the protocol.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file, as the path under src/ of what it names ("db/jobs.ts"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g), ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)).replace(/\.js$/, ".ts"));
}

/** The top-level part of src/ a path belongs to: a folder ("db") or a root file ("config.ts"). */
const partOf = (path: string) => path.split("/")[0]!;

/** Folder → the parts of src/ it must never import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  domain: ["*"],
  db: ["scim", "provisioning", "apps", "admin", "http", "cli", "cli.ts", "main.ts", "compose.ts", "auth", "notify", "metrics"],
  apps: ["db", "scim", "admin", "provisioning", "http", "cli", "cli.ts", "main.ts", "compose.ts", "auth", "notify", "metrics"],
  provisioning: ["scim", "admin", "http", "cli", "cli.ts", "main.ts", "compose.ts"],
  scim: ["admin", "provisioning", "apps", "cli", "cli.ts", "main.ts", "compose.ts"],
};

function violations(): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const rules = FORBIDDEN[partOf(from)];
    if (!rules) continue;
    for (const target of importsOf(file)) {
      const part = partOf(target);
      if (part === partOf(from)) continue;
      if (rules.includes("*") || rules.includes(part)) out.push(`${from} imports ${target}`);
    }
  }
  return out.sort();
}

describe("layering of src/", () => {
  it("keeps every dependency pointing down: domain ← db, apps ← provisioning ← scim, admin, cli", () => {
    expect(violations()).toEqual([]);
  });

  it("sees imports at all (a check that finds no import would pass vacuously)", () => {
    const all = sourceFiles(SRC).flatMap(importsOf);
    expect(all.length).toBeGreaterThan(200);
    expect(all).toContain("domain/model.ts");
  });
});

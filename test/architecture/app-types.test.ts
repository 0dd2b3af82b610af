/**
 * Adding an app type touches its folder (src/apps/<type>/) and the list (src/apps/app-types.ts)
 * only: nothing else may ask which type an app is. Code that needs to know what an app can do
 * reads a capability (a task template in its config, `readBack` on its connector) or asks its
 * type through the list. A genuine exception carries an `app-type-exception:` comment saying why,
 * on its line or just above it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { appTypes } from "../../src/apps/app-types.js";

const SRC = resolve(import.meta.dirname, "../../src");
const TYPES = appTypes.map((t) => t.type);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** A comparison with, a `case` of, or a `type:` key set to one of the type literals. */
function typeTests(types: readonly string[]): RegExp {
  const literal = `["'\`](?:${types.join("|")})["'\`]`;
  return new RegExp(`(?:[=!]==?\\s*${literal})|(?:${literal}\\s*[=!]==?)|(?:\\bcase\\s+${literal})|(?:\\btype\\s*:\\s*${literal})`);
}

/** Lines of `text` that test an app type, except those with an exception comment on the line or the 3 lines above. */
function typeSwitches(text: string, types: readonly string[]): number[] {
  const lines = text.split("\n");
  const test = typeTests(types);
  return lines.flatMap((line, i) => (test.test(line) && !lines.slice(Math.max(0, i - 3), i + 1).some((l) => l.includes("app-type-exception:")) ? [i + 1] : []));
}

/** Where a type's own code and the list live: the only places that may name a type. */
const owned = (path: string) => path === "apps/app-types.ts" || TYPES.some((t) => path.startsWith(`apps/${t}/`));

describe("app types", () => {
  it("are each one module in their own folder, registered in the list", () => {
    for (const type of TYPES) expect(existsSync(join(SRC, "apps", type, "app-type.ts")), `src/apps/${type}/app-type.ts`).toBe(true);
    expect(new Set(TYPES).size).toBe(TYPES.length);
  });

  it("are never switched on outside their folder and the list", () => {
    const found = sourceFiles(SRC)
      .map((file) => relative(SRC, file))
      .filter((path) => !owned(path))
      .flatMap((path) => typeSwitches(readFileSync(join(SRC, path), "utf8"), TYPES).map((line) => `src/${path}:${line}`));
    expect(found).toEqual([]);
  });

  it("finds the switches it looks for (a check that finds nothing would pass vacuously)", () => {
    const sample = [
      'if (app.type === "halopsa") return;',
      "const api = 'manual' !== app.type;",
      'switch (app.type) { case "huntress": break; }',
      'const app = { type: "manual", name: "x" };',
      'const label = "huntress";',
      "// app-type-exception: an example that is allowed",
      'const d = { type: "halopsa" };',
    ].join("\n");
    expect(typeSwitches(sample, TYPES)).toEqual([1, 2, 3, 4]);
  });
});

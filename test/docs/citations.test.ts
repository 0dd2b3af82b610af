/**
 * What the code and docs cite must be in the repository: a maintainer who clones it has nothing
 * else. Every `docs/….md` a file names exists, and nothing the product ships (src, docs, README,
 * openapi.yaml) points at a path outside the repository.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && ext.test(e.name))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

const shipped = [...filesUnder("src", /\.ts$/), ...filesUnder("docs", /\.md$/), "README.md", "openapi.yaml"];
const everything = [...shipped, ...filesUnder("test", /\.ts$/), ...filesUnder("bench", /\.ts$/)];

describe("citations", () => {
  it("names only docs that exist", () => {
    const missing: string[] = [];
    for (const file of everything) {
      for (const [doc] of readFileSync(join(root, file), "utf8").matchAll(/\bdocs\/[\w-]+\.md\b/g)) {
        if (!existsSync(join(root, doc))) missing.push(`${file}: ${doc}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("points at nothing outside the repository from what ships", () => {
    const outside = shipped.filter((file) => /\.\.\/shared\b|(?<![\w/])domain\.md\b/.test(readFileSync(join(root, file), "utf8")));
    expect(outside).toEqual([]);
  });
});

/**
 * README.md's first command works on a fresh machine as written: it points node-gyp at the running
 * Node's own headers (better-sqlite3 compiles when no prebuilt binary downloads), and .ci/run, which
 * installs from scratch, uses the very same line.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

describe("README.md's first command", () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(read("README.md"))![1]!;
  const nodedirLine = firstBlock.split("\n").find((l) => l.startsWith("export npm_config_nodedir="));

  it("sets npm_config_nodedir before npm ci, with the line .ci/run uses", () => {
    expect(nodedirLine).toBeDefined();
    const lines = firstBlock.split("\n");
    expect(lines.indexOf(nodedirLine!)).toBeLessThan(lines.findIndex((l) => l.startsWith("npm ci")));
    expect(read(".ci/run").split("\n")).toContain(nodedirLine);
  });

  it("names a folder that holds this Node's headers, as node-gyp needs", () => {
    const dir = execFileSync("bash", ["-c", `${nodedirLine!}\nprintf %s "$npm_config_nodedir"`], { encoding: "utf8" });
    expect(existsSync(join(dir, "include", "node", "common.gypi")), dir).toBe(true);
    expect(existsSync(join(dir, "include", "node", "node.h")), dir).toBe(true);
  });
});

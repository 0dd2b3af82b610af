/**
 * Builds dist/ once before the tests: the crash-recovery tests run the bridge as a real child
 * process (`node dist/src/main.js`) so that `kill -9` hits a real process, not a test worker.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
}

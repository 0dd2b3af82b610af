import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** True when the module at `metaUrl` is the program node was started with (also through an npm bin symlink). */
export function isMainModule(metaUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  try {
    return realpathSync(started) === fileURLToPath(metaUrl);
  } catch {
    return false;
  }
}

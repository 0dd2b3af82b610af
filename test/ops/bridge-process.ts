/**
 * What the operations tests add to test/support/child-bridge.ts: the environment of a bridge
 * process pointed at a HaloPSA simulator, its exit status and JSON log lines, and the CLI as a
 * process of its own (a backup runs beside the bridge, not inside it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { rigConfig, type RigOptions } from "../support/provisioning.js";

const CLI = join(fileURLToPath(new URL("../..", import.meta.url)), "dist", "src", "cli.js");

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The environment of a bridge process: the database, the tokens, a config file for the simulator. */
export function bridgeEnv(dir: string, dbFile: string, sim: HaloPsaSimulator, rig: RigOptions = {}): Record<string, string> {
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(rigConfig(sim, rig)));
  return {
    SCIM_BRIDGE_DB: dbFile,
    SCIM_BRIDGE_CONFIG: configFile,
    SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN,
    SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: "info",
  };
}

/**
 * Settles with the exit status once the process has exited and its output is all read ("close",
 * not "exit": the last log lines may still be in the pipe at exit).
 */
export function exitOf(child: ChildProcess): Promise<Exit> {
  const gone = child.exitCode !== null || child.signalCode !== null;
  if (gone && (child.stdout === null || child.stdout.destroyed)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
}

/** The JSON log lines in a process's output, parsed (the banner and other plain lines are skipped). */
export function logLines(output: readonly string[]): { level: string; message: string; [key: string]: unknown }[] {
  return output
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: string; message: string });
}

/** Runs `node dist/src/cli.js ...args` to completion with exactly `env` (plus PATH). */
export async function runCliProcess(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const chunks: string[] = [];
  child.stdout.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
  const { code } = await exitOf(child);
  return { code, out: chunks.join("") };
}

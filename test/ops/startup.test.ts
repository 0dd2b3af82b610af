/**
 * What a real bridge process says when it cannot start (issue 11): one line naming what is wrong
 * and how to fix it, a non-zero exit code and no stack trace; one bridge per database file, taken
 * over at once after a crash; first-start tokens kept out of a log stream.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { freePort, kill9, MAIN, startBridgeProcess } from "../support/child-bridge.js";
import { exitOf, runCliProcess } from "./bridge-process.js";

const TOKENS = { SCIM_BRIDGE_SCIM_TOKEN: SCIM_TOKEN, SCIM_BRIDGE_ADMIN_TOKEN: ADMIN_TOKEN };

/** Runs `node dist/src/main.js` expecting it to exit by itself; returns its exit code and output. */
async function runToExit(env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env["PATH"] ?? "", HOST: "127.0.0.1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  onTestFinished(() => kill9(child));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const exit = await exitOf(child);
  return { code: exit.code, stdout, stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "startup-"));
}

/** No line of a stack trace ("    at start (file:///…/main.js:1:2)"). */
const STACK = /^\s+at /m;

async function occupied(): Promise<{ port: number }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0 };
}

describe("start-up that explains", () => {
  it("says the port is in use and how to fix it, in one line, exit code 1", async () => {
    const dir = tempDir();
    const { port } = await occupied();
    const r = await runToExit({ ...TOKENS, PORT: String(port), SCIM_BRIDGE_DB: join(dir, "b.db") }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`scim-bridge failed to start: port ${port} is already in use on 127.0.0.1 (another scim-bridge or another program listens on 127.0.0.1:${port}): stop it, or choose another port with PORT\n`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("names each bad config value and the allowed ones, exit code 2, no stack trace", async () => {
    const dir = tempDir();
    const file = join(dir, "scim-bridge.yaml");
    writeFileSync(file, "apps:\n  - { name: edr, type: manul }\n");
    const r = await runToExit({ ...TOKENS, PORT: "eighty", SCIM_BRIDGE_CONFIG: file, SCIM_BRIDGE_DB: join(dir, "b.db") }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PORT: "eighty" is not a number');
    expect(r.stderr).toContain(`apps[0].type (in ${file}): "manul" is not one of halopsa, huntress, manual`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("says an unreadable config file cannot be read and why", async () => {
    const dir = tempDir();
    const r = await runToExit({ ...TOKENS, PORT: String(await freePort()), SCIM_BRIDGE_CONFIG: join(dir, "missing.yaml") }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`SCIM_BRIDGE_CONFIG: cannot read ${join(dir, "missing.yaml")}: no such file\n`);
  });

  it("refuses a second bridge on the same database file, naming it, and starts at once after the first is killed", async () => {
    const dir = tempDir();
    const db = join(dir, "shared.db");
    const first = await startBridgeProcess({ cwd: dir, env: { ...TOKENS, SCIM_BRIDGE_DB: db } });
    const second = await runToExit({ ...TOKENS, PORT: String(await freePort()), SCIM_BRIDGE_DB: db }, dir);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^scim-bridge failed to start: database ${db.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is in use by another scim-bridge \\(pid ${first.child.pid} on .+, last seen \\d+ s ago\\): run only one bridge per database`));
    expect(second.stderr).not.toMatch(STACK);
    // A crash leaves the row behind; its process is gone, so the next bridge takes the file at once.
    await kill9(first.child);
    const third = await startBridgeProcess({ cwd: dir, env: { ...TOKENS, SCIM_BRIDGE_DB: db } });
    expect((await third.scim("GET", "/Users")).status).toBe(200);
  });

  it("says the database is locked by another process when a tool holds its write lock past the busy timeout", async () => {
    const dir = tempDir();
    const file = join(dir, "b.db");
    const holder = openDatabase(file);
    holder.prepare("BEGIN IMMEDIATE").run();
    onTestFinished(() => {
      holder.prepare("ROLLBACK").run();
      holder.close();
    });
    const r = await runToExit({ ...TOKENS, PORT: String(await freePort()), SCIM_BRIDGE_DB: file }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`scim-bridge failed to start: database ${file} is locked by another process (another scim-bridge, or a tool holding a write lock): stop it, or set SCIM_BRIDGE_DB to another file\n`);
  });

  it("writes first-start tokens to initial-tokens.txt (mode 0600) beside the database when stdout is not a terminal, and never prints them", async () => {
    const dir = tempDir();
    const dataDir = join(dir, "data");
    const p = await startBridgeProcess({ cwd: dir, env: { SCIM_BRIDGE_DB: join(dataDir, "b.db") } });
    const file = join(dataDir, "initial-tokens.txt");
    await expect.poll(() => existsSync(file) && p.output.join("").includes("First start"), { timeout: 5000 }).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    const tokens = [...text.matchAll(/:\s+(\S{20,})$/gm)].map((m) => m[1] ?? "");
    expect(tokens).toHaveLength(2);
    const output = p.output.join("");
    for (const token of tokens) expect(output).not.toContain(token);
    expect(output).toContain(`the new SCIM and admin tokens are in ${file}`);
    expect(output).toContain("  App halopsa: reachable, credentials accepted\n");
    // The token in the file works.
    const res = await fetch(`${p.url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${tokens[0] ?? ""}` } });
    expect(res.status).toBe(200);
  });

  it("prints the CLI usage on --help, -h or help and exits 0; an unknown command still exits 2", async () => {
    for (const args of [["--help"], ["-h"], ["help"], ["tasks", "--help"]]) {
      const r = await runCliProcess(args, {});
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.out).toMatch(/^Usage:\n/);
    }
    expect((await runCliProcess(["sideways"], {})).code).toBe(2);
  });

  it("names host, port and cause when HaloPSA is unreachable, in the banner and the metric, without the client secret; /readyz stays ready", async () => {
    const dir = tempDir();
    const closed = await freePort();
    const secret = "halo-client-secret-that-must-not-show";
    const p = await startBridgeProcess({ cwd: dir, env: { ...TOKENS, SCIM_BRIDGE_DB: join(dir, "b.db"), HALOPSA_URL: `http://127.0.0.1:${closed}`, HALOPSA_CLIENT_ID: "bridge", HALOPSA_CLIENT_SECRET: secret } });
    await expect.poll(() => p.output.join(""), { timeout: 15_000 }).toContain("WARNING app halopsa is not reachable");
    const output = p.output.join("");
    expect(output).toContain(`WARNING app halopsa is not reachable: HaloPSA POST /auth/token failed (network): cannot reach 127.0.0.1:${closed}: connection refused`);
    expect(output).not.toContain(secret);
    const metrics = await fetch(`${p.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await metrics.text()).toContain('scim_bridge_app_reachable{app="halopsa"} 0');
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
  });
});

/**
 * README.md "Try it without an IdP" works as written: its two shell blocks (Okta's create user,
 * push group, add member; then deactivate) run in bash with curl against a started bridge, and
 * the built-in HaloPSA simulator shows what the README promises: an active agent, then a disabled one.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN, startBridge, type TestBridge } from "../support/bridge.js";
import { waitFor } from "../support/provisioning.js";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
const HAS_CURL = spawnSync("curl", ["--version"]).status === 0;

/** The ```sh blocks of a README section, in order. */
function shellBlocks(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe.skipIf(!HAS_CURL)("README.md: Try it without an IdP (curl)", () => {
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge();
  });
  afterAll(async () => {
    await bridge.close();
  });

  it("provisions Ana as a HaloPSA agent in the built-in simulator, then disables her when Okta deactivates her", async () => {
    const [first, second] = shellBlocks(README, "Try it without an IdP");
    expect(first).toMatch(/^TOKEN=/m);
    expect(second).toMatch(/"op": "replace", "value": \{"active": false\}/);
    // The reader's two edits: their token and (here) the test bridge's port. Everything else runs as written.
    const setUp = (block: string): string =>
      block.replace(/^TOKEN=.*$/m, `TOKEN='${SCIM_TOKEN}'`).replace(/^BASE=.*$/m, `BASE='${bridge.baseUrl}'`);
    // One bash for both blocks, as in one terminal; it waits on stdin between them so the test can look.
    const script = `set -euo pipefail\n${setUp(first!)}\necho "USER_ID=$USER_ID"\nread -r _\n${second}\necho DONE\n`;
    const shell = spawn("bash", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    shell.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => shell.on("close", resolve));
    const userId = await new Promise<string>((resolve, reject) => {
      shell.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^USER_ID=(\S+)$/m.exec(out);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`the first block ended (exit ${String(code)}) before printing USER_ID:\n${out}\n${err}`)));
    });

    // The worker runs in the background, as after a real Okta push: wait for it as a reader would look.
    const sim = bridge.running.haloPsaSimulator!;
    const agentOf = () => [...sim.state.agents.values()].find((a) => a.email === "ana.lopez@example.com");
    const agent = await waitFor(agentOf, 10_000, `Ana's agent in the simulator (the script printed: ${out}${err})`);
    expect(agent).toMatchObject({ name: "Ana Lopez", isdisabled: false });
    expect(agent.roles.map((r) => r.name)).toEqual(["Agent"]);
    // Where the README says to watch: the user's access as JSON, with the admin token.
    const access = await fetch(`${bridge.running.url}/admin/api/users/${userId}/access`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(access.status).toBe(200);
    expect(JSON.stringify(await access.json())).toContain("halopsa");

    shell.stdin.end("\n");
    expect(await exited, `${out}\n${err}`).toBe(0);
    expect(out).toMatch(/DONE\n$/);
    await waitFor(() => agentOf()?.isdisabled, 10_000, "Ana's agent disabled");
  });
});

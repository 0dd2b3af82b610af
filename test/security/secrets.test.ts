/**
 * Issue 5, Security: no secret ever leaves the bridge. One end-to-end run of the real process with
 * known secret values (the SCIM and admin tokens from the environment, a SCIM token issued by the
 * CLI, a wrong token an attacker presents, the HaloPSA client secret and the access tokens HaloPSA
 * issues, the Huntress API key and secret, a webhook URL with its secret path, and secrets given as
 * bad configuration values), exercising failures on purpose: 401 and 403, a HaloPSA sign-in refused
 * until the job dead-letters, a HaloPSA token revoked mid-run, Huntress answering 401 (fallback to
 * a manual task), a webhook answering 500, every admin API GET, a kill -9 and restart, a graceful
 * stop, a bad configuration and a start-up crash. Then everything captured is searched for each
 * secret, its base64, base64url and URL-encoded forms, and every 12-character piece of it:
 * stdout and stderr of every process, every admin API and /metrics body, the SQLite file with its
 * -wal and -shm, and the audit table.
 *
 * The one allowed exception is narrow and explicit: `token create` prints its new token on stdout
 * once, by design. That output is checked to hold the token exactly once and is not searched. With
 * both tokens in the environment the first-start banner generates and prints none (asserted).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { parse as parseYaml } from "yaml";
import { startHaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { startHuntressSimulator } from "../../src/dev/huntress-simulator.js";
import { kill9, MAIN, onDisk, startBridgeProcess, type BridgeProcess } from "../support/child-bridge.js";
import { AGENTS, rigConfig, waitFor } from "../support/provisioning.js";
import { CORE_USER, patch } from "../support/scim.js";

const CLI = MAIN.replace(/main\.js$/, "cli.js");
const ROOT = new URL("../..", import.meta.url);
const HUNTRESS_USERS = "Huntress Users";

/** A secret with characters that URL-encoding and base64 change, so each form is a distinct needle. */
const secret = (label: string) => `${label}-${randomBytes(24).toString("base64")}+/=`;

/** The forms a secret could leak in. */
function needles(name: string, value: string): { what: string; bytes: Buffer }[] {
  const forms = [
    { what: `${name}`, text: value },
    { what: `${name} base64`, text: Buffer.from(value).toString("base64") },
    { what: `${name} base64url`, text: Buffer.from(value).toString("base64url") },
    { what: `${name} URL-encoded`, text: encodeURIComponent(value) },
  ];
  // Any 12 characters in a row: a truncated or partly masked secret is still a leak.
  for (let i = 0; i + 12 <= value.length; i++) forms.push({ what: `${name} [${i}..${i + 12})`, text: value.slice(i, i + 12) });
  return forms.map((f) => ({ what: f.what, bytes: Buffer.from(f.text) }));
}

describe("secrets after a full end-to-end run", () => {
  it("appear in no log, error, audit event, admin API answer, database byte or crash output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "scim-bridge-secrets-"));
    const dbFile = join(dir, "bridge.db");
    const secrets: Record<string, string> = {
      scimToken: secret("scim"),
      adminToken: secret("admin"),
      wrongToken: secret("wrong"),
      haloClientSecret: secret("halo"),
      huntressKey: secret("hkey"),
      huntressSecret: secret("hsecret"),
      webhookPath: randomBytes(24).toString("base64url"),
      shortAdminToken: "tooshort-" + randomBytes(4).toString("hex"),
    };
    const halo = await startHaloPsaSimulator({ rateLimit: null, clientSecret: secrets["haloClientSecret"]! });
    const huntress = await startHuntressSimulator({ rateLimit: null, apiKey: secrets["huntressKey"]!, apiSecret: secrets["huntressSecret"]! });
    let hooks = 0;
    const receiver: Server = createServer((req, res) => {
      hooks++;
      req.resume();
      // The first delivery fails, so the bridge logs a failed delivery.
      res.writeHead(hooks === 1 ? 500 : 200).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    onTestFinished(async () => {
      halo.faults.reset();
      huntress.faults.reset();
      await new Promise((resolve) => receiver.close(resolve));
      await halo.close();
      await huntress.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/${secrets["webhookPath"]}`;

    // The operator's file names apps and rules; every credential comes from the environment.
    const config = rigConfig({ url: halo.url, clientId: halo.clientId, clientSecret: "" }, { provisioning: { maxAttempts: 2, workerConcurrency: 2 }, timeoutSeconds: 2 });
    config["halopsa"] = { rateLimit: null, timeoutSeconds: 2 };
    config["apps"] = [...(config["apps"] as unknown[]), { name: "huntress", type: "huntress" }];
    config["rules"] = [...(config["rules"] as unknown[]), { group: HUNTRESS_USERS, app: "huntress", role: "standard" }];
    config["huntress"] = { url: huntress.url, rateLimit: null, maxRetries: 1, timeoutSeconds: 2 };
    config["notifications"] = { overdueCheckSeconds: 1 };
    const configFile = join(dir, "config.json");
    writeFileSync(configFile, JSON.stringify(config));
    const env: Record<string, string> = {
      SCIM_BRIDGE_DB: dbFile,
      SCIM_BRIDGE_CONFIG: configFile,
      SCIM_BRIDGE_SCIM_TOKEN: secrets["scimToken"]!,
      SCIM_BRIDGE_ADMIN_TOKEN: secrets["adminToken"]!,
      SCIM_BRIDGE_WEBHOOK_URL: webhookUrl,
      HALOPSA_URL: halo.url,
      HALOPSA_CLIENT_ID: halo.clientId,
      HALOPSA_CLIENT_SECRET: secrets["haloClientSecret"]!,
      HUNTRESS_API_KEY: secrets["huntressKey"]!,
      HUNTRESS_API_SECRET: secrets["huntressSecret"]!,
      LOG_LEVEL: "debug",
    };
    /** Everything searched at the end, by where it came from. */
    const captured: { source: string; bytes: Buffer }[] = [];
    const keep = (source: string, data: string | Buffer) => captured.push({ source, bytes: Buffer.isBuffer(data) ? data : Buffer.from(data) });
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env: { PATH: process.env["PATH"] ?? "", ...env }, encoding: "utf8" });
      keep(`cli ${args.join(" ")} stderr`, r.stderr);
      return r;
    };

    let bridge: BridgeProcess = await startBridgeProcess({ cwd: dir, env });
    expect(bridge.output.join("")).not.toContain("First start");

    // A token issued by the CLI: its one display on stdout is the allowed exception.
    const issued = cli("token", "create", "--scope", "scim", "--name", "okta-cli");
    expect(issued.status, issued.stderr).toBe(0);
    const cliToken = issued.stdout.split("\n").find((l) => l.startsWith("scimbridge_"))!;
    expect(issued.stdout.split(cliToken).length - 1).toBe(1);
    secrets["cliToken"] = cliToken;
    keep("cli token list stdout", cli("token", "list").stdout);

    const asCli = { Authorization: `Bearer ${cliToken}` };
    const group = async (displayName: string) => (await bridge.scim("POST", "/Groups", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"], displayName }, asCli)).body.id as string;
    const agentsGroup = await group(AGENTS);
    const huntressGroup = await group(HUNTRESS_USERS);
    const users: string[] = [];
    for (const name of ["ada", "bob", "cy"]) {
      const email = `${name}@example.com`;
      const r = await bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: email, active: true, name: { givenName: name, familyName: "Secret" }, emails: [{ primary: true, value: email }] });
      expect(r.status, r.text).toBe(201);
      users.push(r.body.id as string);
    }
    const addMember = async (groupId: string, userId: string) => expect((await bridge.scim("PATCH", `/Groups/${groupId}`, patch({ op: "Add", path: "members", value: [{ value: userId }] }))).status).toBe(204);

    // Refused requests: a wrong token (401), and tokens of the wrong scope (403) both ways.
    keep("scim 401", (await bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${secrets["wrongToken"]}` })).text);
    keep("scim 403", (await bridge.scim("GET", "/Users", undefined, { Authorization: `Bearer ${secrets["adminToken"]}` })).text);
    const adminAs = async (token: string, path: string) => (await fetch(`${bridge.url}/admin/api${path}`, { headers: { Authorization: `Bearer ${token}` } })).text();
    keep("admin 403", await adminAs(secrets["scimToken"]!, "/users"));
    keep("admin 401", await adminAs(secrets["wrongToken"]!, "/users"));

    // HaloPSA refuses the client secret until the job dead-letters; then it works; then its token is revoked.
    halo.faults.failNext(1_000, { status: 401, match: { path: "/auth/token" } });
    await addMember(agentsGroup, users[0]!);
    const dead = await waitFor(async () => (await bridge.admin("GET", "/jobs?state=dead")).body?.jobs?.[0], 20_000, "a dead letter after the refused sign-ins");
    halo.faults.reset();
    keep("admin retry", (await bridge.admin("POST", `/jobs/${dead.id}/retry`)).text);
    await addMember(agentsGroup, users[1]!);
    await waitFor(() => [...halo.state.agents.values()].filter((a) => !a.isapiagent).length === 2, 20_000, "two agents");
    halo.revokeTokens();
    await addMember(agentsGroup, users[2]!);
    await waitFor(() => [...halo.state.agents.values()].filter((a) => !a.isapiagent).length === 3, 20_000, "a third agent after signing in again");

    // Huntress answers 401: the invitation falls back to a manual task, which goes to the webhook (500 first).
    huntress.faults.failNext(1_000, { status: 401 });
    await addMember(huntressGroup, users[0]!);
    await waitFor(async () => (await bridge.admin("GET", "/tasks")).body?.tasks?.length > 0, 20_000, "a manual task after Huntress refused the key");
    await waitFor(() => hooks > 0, 10_000, "a webhook delivery attempt");
    huntress.faults.reset();
    await addMember(huntressGroup, users[1]!);
    await waitFor(() => huntress.invitations.length > 0, 20_000, "a Huntress invitation through the API");
    keep("admin reconcile", (await bridge.admin("POST", "/reconcile")).text);

    // Every admin API GET in the contract, with real ids.
    const task = (await bridge.admin("GET", "/tasks")).body.tasks[0];
    const ids: Record<string, string> = { id: "", app: "halopsa" };
    const contract = parseYaml(readFileSync(new URL("openapi.yaml", ROOT), "utf8")) as { paths: Record<string, Record<string, unknown>> };
    const gets = Object.keys(contract.paths).filter((p) => p.startsWith("/admin/api/") && "get" in contract.paths[p]!);
    expect(gets.length).toBeGreaterThan(8);
    const changeSet = (await bridge.admin("GET", "/approvals?state=all")).body.changeSets[0];
    for (const path of gets) {
      // This run holds nothing for approval (no deactivation): there is no change set to read.
      if (path.startsWith("/admin/api/approvals/") && changeSet === undefined) continue;
      ids["id"] = path.startsWith("/admin/api/tasks/") ? String(task.id) : path.startsWith("/admin/api/approvals/") ? String(changeSet.id) : users[0]!;
      const concrete = path.replace("/admin/api", "").replace(/\{(\w+)\}/g, (_, k: string) => ids[k]!);
      for (const query of concrete === "/jobs" ? ["", "?state=dead"] : concrete === "/audit" ? ["", "?limit=1000"] : [""]) {
        const r = await bridge.admin("GET", `${concrete}${query}`);
        expect(r.status, `${concrete}${query}: ${r.text.slice(0, 200)}`).toBe(200);
        keep(`GET ${concrete}${query}`, r.text);
      }
    }
    const metrics = await fetch(`${bridge.url}/metrics`, { headers: { Authorization: `Bearer ${secrets["adminToken"]}` } });
    keep("GET /metrics", await metrics.text());

    // kill -9, the files as they are then, a restart, a graceful stop.
    await kill9(bridge.child);
    keep("bridge run 1 output", bridge.output.join(""));
    const files = () => ["", "-wal", "-shm"].filter((s) => existsSync(dbFile + s)).forEach((s) => keep(`bridge.db${s}`, readFileSync(dbFile + s)));
    files();
    bridge = await startBridgeProcess({ cwd: dir, env });
    const stopped = new Promise((resolve) => bridge.child.once("exit", resolve));
    bridge.child.kill("SIGTERM");
    await stopped;
    keep("bridge run 2 output", bridge.output.join(""));
    files();
    keep("audit table", JSON.stringify(onDisk(dbFile, (db) => db.prepare("SELECT * FROM audit_events").all())));

    // Start-up failures with the secrets in the environment: a bad configuration, and a crash.
    const badConfig = spawnSync(process.execPath, [MAIN], {
      cwd: dir,
      env: { ...env, PATH: process.env["PATH"] ?? "", SCIM_BRIDGE_ADMIN_TOKEN: secrets["shortAdminToken"]!, SCIM_BRIDGE_WEBHOOK_URL: `ftp://hooks.example.com/${secrets["webhookPath"]}` },
      encoding: "utf8",
    });
    expect(badConfig.status).toBe(2);
    expect(badConfig.stderr).toContain("SCIM_BRIDGE_ADMIN_TOKEN");
    keep("bad config output", badConfig.stdout + badConfig.stderr);
    const notADatabase = join(dir, "a-directory");
    mkdirSync(notADatabase);
    const crash = spawnSync(process.execPath, [MAIN], { cwd: dir, env: { ...env, PATH: process.env["PATH"] ?? "", SCIM_BRIDGE_DB: notADatabase }, encoding: "utf8" });
    expect(crash.status).toBe(1);
    expect(crash.stderr).toContain("failed to start");
    keep("crash output", crash.stdout + crash.stderr);

    // The access tokens HaloPSA issued are secrets too.
    halo.issuedTokens.forEach((t, i) => (secrets[`haloAccessToken${i}`] = t));
    expect(halo.issuedTokens.length).toBeGreaterThanOrEqual(2);
    // The search does see what was captured: a user's id is in the log, the address in the database and the audit export.
    expect(captured.find((c) => c.source === "bridge run 1 output")?.bytes.includes(users[0]!)).toBe(true);
    for (const source of ["bridge.db", "GET /audit/export"]) expect(captured.some((c) => c.source.startsWith(source) && c.bytes.includes("ada@example.com")), source).toBe(true);

    // ...and the needles do match a secret where one is: the CLI's one display of its token.
    expect(needles("cliToken", cliToken).filter((n) => Buffer.from(issued.stdout).includes(n.bytes)).length).toBeGreaterThan(cliToken.length - 12);

    const leaks: string[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      for (const n of needles(name, value)) {
        for (const c of captured) if (c.bytes.includes(n.bytes)) leaks.push(`${n.what} in ${c.source}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 120_000);
});

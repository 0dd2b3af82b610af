/**
 * Issue 10, part 6: an upstream that echoes the HaloPSA client secret and the access token it
 * issued, in every form (raw, URL- and form-encoded, JSON-escaped, base64 and Basic), leaves no
 * piece of either in the log, the admin API, the audit log or the SQLite file. End to end: the
 * HaloPSA simulator on loopback, a real bridge over HTTP, a real database file.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PIECE } from "../../src/domain/secret-scrubber.js";
import { AGENTS, rigForTest, waitFor } from "../support/provisioning.js";
import { echoedForms } from "../support/secret-forms.js";

/** Changed by every encoding: a space, `+ / =`, a quote, a backslash and HTML-sensitive characters. */
const SECRET = 'Echo sEcReT+/=qX"\\<&>' + "0123456789abcdefghijklmnopqrstuv";

/** The first PIECE-character run of any form found in `text`, named. */
function leak(text: string, forms: Record<string, string>): string | undefined {
  for (const [name, form] of Object.entries(forms)) {
    for (let i = 0; i + PIECE <= form.length; i++) if (text.includes(form.slice(i, i + PIECE))) return `${name} [${i}..${i + PIECE})`;
  }
  return undefined;
}

describe("secrets echoed by an upstream", () => {
  it("reach no log line, admin API answer, audit event or database byte, in any form", async () => {
    const rig = await rigForTest({ simulator: { clientSecret: SECRET }, provisioning: { maxAttempts: 1, workerConcurrency: 1 } });
    const agents = await rig.createGroup(AGENTS);
    const dead = (userId: string) => rig.jobs().find((j) => j.userId === userId && j.dead);

    // The token endpoint refuses and echoes the secret where the 300-character cut of an error text falls inside it.
    rig.sim.faults.failNext(1, { status: 400, match: { path: "/auth/token" }, shape: "text", message: `${"x".repeat(280)} secret=${SECRET}` });
    const refused = await rig.createUser("refused@example.com");
    await rig.addMembers(agents.id, [refused.id]);
    await waitFor(() => dead(refused.id), 10_000, "the refused sign-in's job to dead-letter");

    // One create goes through, so the bridge holds an access token the next answers can echo.
    const ok = await rig.createUser("ok@example.com");
    await rig.addMembers(agents.id, [ok.id]);
    await rig.agentOnceReady("ok@example.com");
    const accessToken = rig.sim.issuedTokens.at(-1)!;
    const forms: Record<string, string> = {};
    for (const [name, form] of Object.entries(echoedForms(SECRET, rig.sim.clientId))) forms[`client secret ${name}`] = form;
    for (const [name, form] of Object.entries(echoedForms(accessToken))) forms[`access token ${name}`] = form;

    // Each create answers 400 with one form in its body (as text, so the form arrives as is), and
    // one more in HaloPSA's JSON layout, which JSON-escapes the raw secret on the wire.
    const echoes = [...Object.entries(forms).map(([, form]) => ({ shape: "text" as const, message: `rejected: ${form} (check it)` })), { shape: "ClassName" as const, message: `rejected ${SECRET}` }];
    for (const e of echoes) rig.sim.faults.failNext(1, { status: 400, match: { method: "POST", path: "/api/Agent" }, ...e });
    const users = [];
    for (let i = 0; i < echoes.length; i++) users.push(await rig.createUser(`echo${i}@example.com`));
    await rig.addMembers(agents.id, users.map((u) => u.id));
    for (const u of users) await waitFor(() => dead(u.id), 15_000, `the job of ${u.userName} to dead-letter`);

    // The path was exercised: every failure was recorded, with the secret replaced.
    const errors = [refused, ...users].map((u) => dead(u.id)!.lastError ?? "");
    expect(errors.every((e) => e.includes("[redacted]")), errors.join("\n")).toBe(true);
    expect(errors[0]).toMatch(/^halopsa: HaloPSA POST \/auth\/token failed \(400\): x{280} secret=\[redacted\]/);

    const jobs = await rig.admin("GET", "/jobs");
    expect(jobs.status).toBe(200);
    const access = await Promise.all([refused, ...users].map((u) => rig.admin("GET", `/users/${u.id}/access`)));
    expect(access.map((a) => a.status)).toEqual(access.map(() => 200));
    expect(access.map((a) => a.text).join("\n")).toContain("[redacted]");
    const db = rig.bridge.running.db;
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    const rows = tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all())).join("\n");
    db.pragma("wal_checkpoint(TRUNCATE)");
    const places: Record<string, string> = {
      log: rig.bridge.logLines.join("\n"),
      "/admin/api/jobs": jobs.text,
      "/admin/api/users/{id}/access": access.map((a) => a.text).join("\n"),
      "audit log": JSON.stringify(rig.audit()),
      "database rows": rows,
      "database file": readFileSync(rig.bridge.dbFile).toString("latin1"),
    };
    for (const [place, text] of Object.entries(places)) expect(leak(text, forms), place).toBeUndefined();
  });
});

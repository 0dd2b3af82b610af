/**
 * The access timeline shows what the read-back found (issue 12 §3 with §2): a Huntress app read
 * through its API with a read-only key, one task the reviewer marked done that Huntress shows
 * (verified) and one it does not (reopened with what Huntress shows). The JSON timeline, the user
 * page and the printable page each carry both verdicts. Real bridge, SQLite file, loopback HTTP.
 */
import { describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/admin/web/session.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { checkResponse, loadOpenApi } from "../support/openapi-contract.js";
import { ADMINS, rig, USERS, type Rig } from "../support/huntress-rig.js";
import { waitFor } from "../support/provisioning.js";
import { signInOverHttp } from "../support/web-session.js";

async function admin(r: Rig, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; body: any; type: string | null }> {
  const res = await fetch(`${r.bridge.running.url}/admin/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text), type: res.headers.get("content-type") };
}

/** Marks the task done as a reviewer would, then waits for the user's job to read Huntress back. */
async function markDone(r: Rig, id: number, note: string): Promise<void> {
  expect((await admin(r, "POST", `/tasks/${id}/complete`, { note })).status).toBe(200);
  await waitFor(() => r.bridge.running.tasks.get(id)!.verification !== "pending", 10_000, `task ${id} read back`);
}

/** The rows of the timeline table in an admin page, cells joined by " | ", tags stripped. */
async function timelineRows(r: Rig, path: string): Promise<string[]> {
  const origin = r.bridge.running.url;
  const res = await fetch(`${origin}${path}`, { headers: { Cookie: `${SESSION_COOKIE}=${await signInOverHttp(origin, ADMIN_TOKEN)}` } });
  expect(res.status).toBe(200);
  const table = /<table class="audit timeline">([\s\S]*?)<\/table>/.exec(await res.text())![1]!;
  const unescape = (s: string) => s.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1).map((m) => [...m[1]!.matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => unescape(c[1]!.replace(/<[^>]+>/g, "").trim())).join(" | "));
}

describe("the access timeline shows verification by read-back", () => {
  it("lists a task verified and a task reopened by read-back, each with its verdict, in the API, on the user page and on the printable page", async () => {
    const r = await rig({ app: { writes: false } });
    r.sim.setWritePermission(false);
    const vic = await r.newUser("Vic Vale");
    await r.join(vic, USERS);
    const invite = r.open(vic)!;
    // The technician invites Vic as Standard User and Vic accepts; the reviewer marks the task done.
    const member = r.sim.seedMembership({ email: "vic@example.com", name: "Vic Vale", permissions: "User" });
    await markDone(r, invite.id, "invited as Standard User");
    // Vic moves to Admins; the reviewer marks the role change done, but nobody changed it in Huntress.
    await r.join(vic, ADMINS);
    const change = r.open(vic)!;
    expect(change).toMatchObject({ action: "changeRole", role: "admin" });
    await markDone(r, change.id, "made admin");
    expect(r.bridge.running.tasks.get(change.id)).toMatchObject({ state: "open" });

    const res = await admin(r, "GET", `/users/${vic}/timeline`);
    expect(res.status, res.text).toBe(200);
    expect(checkResponse(loadOpenApi(), { method: "GET", path: `/admin/api/users/${vic}/timeline`, status: 200, contentType: res.type, text: res.text })).toEqual([]);
    const steps = (res.body.entries as { action: string; taskId: number | null; summary: string; actor: string; verification: unknown }[])
      .filter((e) => e.taskId === invite.id || e.taskId === change.id)
      .filter((e) => e.action !== "task.raised")
      .map((e) => [e.taskId, e.action, e.summary, e.actor, e.verification]);
    const reviewer = "env:SCIM_BRIDGE_ADMIN_TOKEN";
    const verified = `task #${invite.id} verified by read-back: Huntress shows vic@example.com as Standard User (account ${member.id})`;
    const reopened = `task #${change.id} reopened by read-back: Huntress has vic@example.com as Standard User, expected Account Admin`;
    expect(steps).toEqual([
      [invite.id, "task.done", `task #${invite.id} done: invited as Standard User`, reviewer, "pending"],
      [invite.id, "task.verified", verified, "read-back", "verified"],
      [change.id, "task.done", `task #${change.id} done: made admin`, reviewer, "pending"],
      [change.id, "task.reopened-by-read-back", reopened, "read-back", "contradicted"],
    ]);

    for (const path of [`/admin/users/${vic}`, `/admin/users/${vic}/timeline`]) {
      const rows = await timelineRows(r, path);
      expect(rows.find((row) => row.includes(verified)), path).toMatch(/\| read-back \| .* \| verified: the app shows it$/);
      expect(rows.find((row) => row.includes(reopened)), path).toMatch(/\| read-back \| .* \| not shown by the app$/);
      expect(rows.filter((row) => row.endsWith("| pending: the app not read since")), path).toHaveLength(2);
    }
  });
});

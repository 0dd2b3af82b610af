/**
 * The audit log over HTTP: filters, newest-first paging, and the JSON-lines export, against a real
 * bridge whose events come from SCIM requests, the worker and people completing tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { AuditLog } from "../../src/db/audit.js";
import { REVIEWER_ACTOR, startTaskBridge, type TaskBridge } from "../support/admin.js";
import { PATCH_OP } from "../support/scim.js";

let t: TaskBridge;
let ada: string;
beforeAll(async () => {
  t = await startTaskBridge();
  const created = await t.bridge.scim(
    "POST",
    "/Users",
    { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "ada@example.com", displayName: "Ada Lovelace", emails: [{ value: "ada@example.com", primary: true }] },
    { "X-Request-Id": "req-create-ada" },
  );
  expect(created.status, created.text).toBe(201);
  ada = created.body.id;
  const patched = await t.bridge.scim("PATCH", `/Users/${ada}`, { schemas: [PATCH_OP], Operations: [{ op: "Replace", path: "displayName", value: "Ada King" }] }, { "X-Request-Id": "req-rename-ada" });
  expect(patched.status, patched.text).toBeLessThan(300);
  const joined = await t.bridge.scim(
    "PATCH",
    `/Groups/${t.groupId("Huntress Admins")}`,
    { schemas: [PATCH_OP], Operations: [{ op: "Add", path: "members", value: [{ value: ada }] }] },
    { "X-Request-Id": "req-join-ada" },
  );
  expect(joined.status, joined.text).toBe(204);
  await t.settle();
});
afterAll(async () => t.close());

const events = async (query: string) => {
  const r = await t.admin("GET", `/audit${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body.events as any[];
};

describe("GET /admin/api/audit", () => {
  it("lists a resource's events newest first, with the actor, the request id and what changed", async () => {
    const list = await events(`?resourceType=User&resourceId=${ada}`);
    expect(list.map((e) => [e.action, e.requestId, e.actor])).toEqual([
      ["user.patch", "req-rename-ada", "env:SCIM_BRIDGE_SCIM_TOKEN"],
      ["user.create", "req-create-ada", "env:SCIM_BRIDGE_SCIM_TOKEN"],
    ]);
    expect(list[0].before).toMatchObject({ displayName: "Ada Lovelace" });
    expect(list[0].after).toMatchObject({ displayName: "Ada King" });
    expect(list[1].before).toBeNull();
    expect(list[0].seq).toBeGreaterThan(list[1].seq);
  });

  it("follows one SCIM request through the worker to the task it raised", async () => {
    const list = await events("?requestId=req-join-ada");
    const actions = list.map((e) => e.action);
    expect(actions).toContain("group.patch");
    expect(actions).toContain("task.raised");
    const raised = list.find((e) => e.action === "task.raised");
    expect(raised).toMatchObject({ actor: "worker", resourceType: "AppAccount", resourceId: `${ada}/huntress`, after: { title: "Invite Ada King to Huntress as Account Admin" } });
  });

  it("matches an action exactly, or by a prefix ending in *", async () => {
    const [task] = (await t.admin("GET", `/tasks?user=${ada}`)).body.tasks;
    await t.reviewer("POST", `/tasks/${task.id}/claim`);
    await t.reviewer("POST", `/tasks/${task.id}/complete`, { note: "sent" });
    await t.settle();
    expect((await events("?action=task.claim")).map((e) => e.resourceId)).toEqual([String(task.id)]);
    expect((await events("?action=task.*")).map((e) => e.action)).toEqual(expect.arrayContaining(["task.done", "task.claim", "task.raised"]));
    expect((await events("?action=task.*")).every((e) => e.action.startsWith("task."))).toBe(true);
    // A prefix is literal: no SQL wildcards, no case folding.
    expect(await events("?action=task._one*")).toEqual([]);
    expect(await events("?action=TASK.*")).toEqual([]);
    expect(await events("?action=task")).toEqual([]);
    expect((await events(`?actor=${REVIEWER_ACTOR}`)).map((e) => e.action)).toEqual(["task.done", "task.claim"]);
  });

  it("narrows by time with since and until", async () => {
    const all = await events("?limit=1000");
    expect(await events("?since=2999-01-01")).toEqual([]);
    expect(await events("?until=2000-01-01T00:00:00Z")).toEqual([]);
    expect(await events("?since=2000-01-01&limit=1000")).toEqual(all);
    // An offset is converted to UTC before comparing.
    const at = all[all.length - 1].at as string;
    const inParis = new Date(Date.parse(at) + 3_600_000).toISOString().replace("Z", "+01:00");
    expect((await events(`?since=${encodeURIComponent(inParis)}&limit=1000`)).length).toBe(all.length);
  });

  it("pages back with before = nextBefore until nextBefore is null", async () => {
    const all = await events("?limit=1000");
    expect(all.length).toBeGreaterThan(5);
    const seen: number[] = [];
    let query = "?limit=2";
    for (let pages = 0; pages < 100; pages++) {
      const r = await t.admin("GET", `/audit${query}`);
      seen.push(...r.body.events.map((e: any) => e.seq));
      if (r.body.nextBefore === null) break;
      expect(r.body.events).toHaveLength(2);
      query = `?limit=2&before=${r.body.nextBefore}`;
    }
    expect(seen).toEqual(all.map((e) => e.seq));
  });

  it("answers 400 naming the parameter for bad or unknown parameters", async () => {
    for (const [query, name] of [
      ["?since=yesterday", "since"],
      ["?until=31/01/2026", "until"],
      ["?limit=0", "limit"],
      ["?limit=1001", "limit"],
      ["?before=-1", "before"],
      ["?resourceId=", "resourceId"],
      ["?resource_type=User", "resource_type"],
    ]) {
      const r = await t.admin("GET", `/audit${query}`);
      expect(r.status, query).toBe(400);
      expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(r.body.detail).toContain(name);
    }
  });
});

describe("GET /admin/api/audit/export", () => {
  async function exportLines(query: string) {
    const r = await t.admin("GET", `/audit/export${query}`);
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename="scim-bridge-audit-\d+\.ndjson"$/);
    expect(r.text === "" || r.text.endsWith("\n")).toBe(true);
    return r.text === "" ? [] : r.text.slice(0, -1).split("\n").map((l) => JSON.parse(l));
  }

  it("streams the same events as the list, one JSON object per line, in the order they happened", async () => {
    const listed = await events(`?resourceType=User&resourceId=${ada}`);
    expect(await exportLines(`?resourceType=User&resourceId=${ada}`)).toEqual([...listed].reverse());
    const everything = await events("?limit=1000");
    expect(await exportLines("")).toEqual([...everything].reverse());
  });

  it("answers an empty body when nothing matches, and 400 for a bad filter", async () => {
    expect(await exportLines("?actor=nobody")).toEqual([]);
    const bad = await t.admin("GET", "/audit/export?since=soon");
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 400, detail: expect.stringContaining("since") });
    expect((await t.admin("GET", "/audit/export?limit=5")).status).toBe(400); // paging belongs to the list
  });

  it("exports thousands of events across batches without losing or repeating one", async () => {
    const db = t.bridge.running.db;
    const log = new AuditLog(db, systemClock);
    db.transaction(() => {
      for (let i = 0; i < 1_234; i++) log.append({ actor: "bulk-import", requestId: null, action: "test.bulk", resourceType: "Bulk", resourceId: String(i), after: { i } });
    })();
    const lines = await exportLines("?actor=bulk-import");
    expect(lines).toHaveLength(1_234);
    expect(lines.map((e) => e.after.i)).toEqual([...Array(1_234).keys()]);
    expect(lines.every((e, i) => i === 0 || e.seq > lines[i - 1].seq)).toBe(true);
  });
});

/**
 * openapi.yaml against the real admin API. A real bridge (manual Huntress and portal apps, HaloPSA
 * on the built-in simulator) answers real requests; every answer, success or error, is validated
 * against the schema the document gives for its path, method, status and media type
 * (test/support/openapi-contract.ts, with the validator of test/support/json-schema.ts). The last
 * test checks the other direction: every response the document promises for /admin/api was seen.
 * A negative block shows the check fails when a response and the document drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTaskBridge, type ApiResult, type TaskBridge } from "../support/admin.js";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { unsupportedKeywords } from "../support/json-schema.js";
import { checkResponse, documentedResponses, loadOpenApi, METHODS, operationKey, type OpenApiDocument } from "../support/openapi-contract.js";
import { waitFor } from "../support/provisioning.js";
import { ApprovalStore } from "../../src/db/approvals.js";
import { systemClock } from "../../src/clock.js";

const PREFIX = "/admin/api";
const doc = loadOpenApi();

/** Documented responses no test can produce on demand, each with the reason. */
const NOT_EXERCISED: Record<string, string> = {
  "POST /admin/api/jobs/{id}/retry 412": "only while a worker holds the job, a window a test cannot hit on demand",
};

let t: TaskBridge;
const seen = new Set<string>();
/** A real response of each kind, kept for the negative checks. */
const samples = new Map<string, { path: string; r: ApiResult }>();

/** Sends a request and fails unless the answer conforms to openapi.yaml. */
async function call(token: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResult> {
  const r = await t.request(token, method, path, body, headers);
  const bare = `${PREFIX}${path.split("?")[0]}`;
  const errors = checkResponse(doc, { method, path: bare, status: r.status, contentType: r.headers.get("content-type"), text: r.text });
  expect(errors, `${method} ${path} → ${r.status}: ${r.text.slice(0, 300)}`).toEqual([]);
  if (r.headers.get("content-type")?.startsWith("application/problem+json")) expect(r.body.status, "a problem's status is the HTTP status").toBe(r.status);
  const key = `${operationKey(doc, method, bare)} ${r.status}`;
  seen.add(key);
  if (!samples.has(key)) samples.set(key, { path: bare, r });
  return r;
}
const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(ADMIN_TOKEN, method, path, body, headers);
const reviewer = (method: string, path: string, body?: unknown) => call(t.reviewerToken, method, path, body);

interface ContractIds {
  task: number;
  doneTask: number;
  job: number;
  user: string;
  token: number;
  approval: number;
}

/** Each admin operation of the document, with a concrete path: `known` ids resolve, `unknown` ones do not. */
function operations(ids: ContractIds) {
  const out: { method: string; template: string; known: string; unknown: string | undefined }[] = [];
  for (const [template, item] of Object.entries(doc["paths"] as Record<string, any>)) {
    if (!template.startsWith(PREFIX)) continue;
    for (const method of METHODS) {
      if (!item[method]) continue;
      const rel = template.slice(PREFIX.length);
      const fill = (v: Record<string, string>) => rel.replace(/\{(\w+)\}/g, (_m, name: string) => v[name] ?? "?");
      const isTask = rel.startsWith("/tasks/{id}");
      const isToken = rel.startsWith("/tokens/{id}");
      const isApproval = rel.startsWith("/approvals/{id}");
      const known = fill({ id: String(isTask ? ids.task : rel.startsWith("/jobs") ? ids.job : isToken ? ids.token : isApproval ? ids.approval : ids.user), app: "halopsa" });
      const unknown = rel.includes("{") ? fill({ id: isTask || isToken || isApproval || rel.startsWith("/jobs") ? "999999" : "no-such-user", app: "huntress" }) : undefined;
      out.push({ method: method.toUpperCase(), template, known, unknown });
    }
  }
  return out;
}

beforeAll(async () => {
  t = await startTaskBridge({ haloPsa: true });
});
afterAll(async () => t.close());

describe("openapi.yaml", () => {
  it("uses only JSON Schema keywords the contract validator checks", () => {
    const schemas: unknown[] = [];
    for (const [template, item] of Object.entries(doc["paths"] as Record<string, any>)) {
      if (!template.startsWith(PREFIX)) continue;
      for (const method of METHODS) {
        for (const response of Object.values<any>(item[method]?.responses ?? {})) {
          const resolved = response.$ref ? doc["components"].responses[response.$ref.split("/").pop()] : response;
          for (const media of Object.values<any>(resolved.content ?? {})) schemas.push(media.schema, media["x-itemSchema"]);
        }
      }
    }
    expect(schemas.filter((s) => s !== undefined).flatMap((s) => unsupportedKeywords(s, doc))).toEqual([]);
  });
});

describe("the admin API conforms to openapi.yaml", () => {
  let ids: ContractIds;

  it("in its success answers", async () => {
    const ada = await t.newUser("Ada Lovelace");
    const bo = await t.newUser("Bo Byte");
    const cy = await t.newUser("Cy Cipher");
    const dee = await t.newUser("Dee Delta");
    await t.joinGroup(ada, "Huntress Admins");
    await t.joinGroup(bo, "Portal Users");
    await t.joinGroup(cy, "HaloPSA Agents");
    // A team HaloPSA does not have: the job is dead-lettered at once, so retry has something to run.
    await t.bridge.scim("PATCH", `/Groups/${t.groupId("HaloPSA Broken")}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "add", path: "members", value: [{ value: dee }] }] });
    const dead = await waitFor(async () => (await admin("GET", "/jobs?state=dead")).body.jobs[0], 10_000, "a dead letter");

    const list = await reviewer("GET", "/tasks");
    expect(list.body.tasks.length).toBeGreaterThanOrEqual(2);
    await reviewer("GET", `/tasks?app=huntress&state=open&overdue=false&user=${ada}&limit=10`);
    await reviewer("GET", "/tasks/counts");
    const invite = (await admin("GET", `/tasks?user=${ada}`)).body.tasks[0];
    await reviewer("GET", `/tasks/${invite.id}`);
    await reviewer("POST", `/tasks/${invite.id}/claim`);
    await reviewer("POST", `/tasks/${invite.id}/complete`, { note: "sent" });
    const portal = (await admin("GET", `/tasks?user=${bo}`)).body.tasks[0];
    await reviewer("POST", `/tasks/${portal.id}/fail`, { reason: "portal down" });
    await reviewer("POST", `/tasks/${portal.id}/reopen`);
    await t.settle();

    const users = await admin("GET", "/users");
    expect(users.body.totalResults).toBe(4);
    await admin("GET", `/users?filter=${encodeURIComponent('userName sw "ada"')}&startIndex=1&count=1`);
    const csv = await admin("GET", "/users.csv");
    expect(csv.text.split("\r\n").filter((l) => l !== "")).toHaveLength(5);
    expect(csv.headers.get("content-disposition")).toContain("users.csv");
    await admin("GET", `/users?format=csv&filter=${encodeURIComponent('groups.display eq "HaloPSA Agents"')}`);
    expect((await admin("GET", `/users.csv?filter=${encodeURIComponent("userName eq")}`)).status).toBe(400);
    await admin("GET", `/users/${ada}/access`); // invited, with the confirm task owed
    await admin("GET", `/users/${cy}/access`); // active HaloPSA agent
    await admin("GET", `/users/${dee}/access`); // error
    await admin("GET", `/users/${ada}/timeline`);
    await admin("GET", "/reports/deprovisioning");
    await admin("GET", "/reports/deprovisioning?format=csv&since=2026-01-01");

    await admin("GET", "/audit");
    await admin("GET", "/audit?action=task.*&limit=3");
    await admin("GET", "/audit/export?resourceType=Task");
    await admin("GET", "/audit/export?actor=nobody"); // empty

    await admin("GET", "/jobs");
    await admin("GET", "/jobs?state=queued");
    const before = await admin("GET", "/status"); // before any reconcile pass: drift and reconcile null
    expect(before.body.reconcile).toBeNull();
    expect(before.body.apps.find((a: { name: string }) => a.name === "halopsa").check.state).toBe("ok");
    await admin("POST", `/jobs/${dead.id}/retry`);
    await admin("POST", "/reconcile");
    // After a pass, with the dead letter retried; the app check comes from the 60 s cache.
    expect((await admin("GET", "/status")).body.reconcile).toMatchObject({ usersQueued: 4 });
    await admin("GET", "/drift");
    await admin("GET", "/drift?app=halopsa");
    await admin("GET", "/apps/halopsa/seats");
    await admin("GET", "/rules");

    const created = await admin("POST", "/tokens", { name: "contract-okta", scope: "scim" });
    const rotated = await admin("POST", `/tokens/${created.body.token.id}/rotate`, { overlapSeconds: 3600 });
    await admin("POST", `/tokens/${rotated.body.token.id}/revoke`);
    await admin("GET", "/tokens");

    // Two change sets as the deprovision limit opens them (the tests of provisioning/approvals trip it for real).
    const approvals = new ApprovalStore(t.bridge.running.db, systemClock);
    // The held users are not in the directory, so no pass of theirs settles the holds while the test decides.
    const openSet = (userId: string) => {
      const set = approvals.open("deprovision-limit", "halopsa", { limit: 10, windowMinutes: 60 });
      approvals.hold(set.id, { userId, app: "halopsa", action: "deactivate", detail: { summary: "deactivate halopsa account 2 (inactive)" }, userVersion: 1 });
      return set.id;
    };
    const first = openSet("contract-held-1");
    const second = openSet("contract-held-2");
    await admin("GET", "/approvals");
    await admin("GET", `/approvals/${first}`);
    await admin("POST", `/approvals/${first}/approve`, { note: "the IdP is right" });
    await admin("POST", `/approvals/${second}/reject`);
    await admin("GET", "/approvals?state=all");
    approvals.hold(second, { userId: cy, app: "halopsa", action: "downgrade", detail: { summary: "change halopsa role admin → agent" }, userVersion: null });
    await admin("GET", `/users/${cy}/access`); // held by the rejected change set
    ids = { task: portal.id, doneTask: invite.id, job: dead.id, user: ada, token: rotated.body.token.id, approval: second };
  });

  it("in its error answers: 401, 403, 400, 404, 412, 413 and 415", async () => {
    for (const op of operations(ids)) {
      const where = `${op.method} ${op.template}`;
      expect((await call(null, op.method, op.known)).status, where).toBe(401);
      expect((await call(SCIM_TOKEN, op.method, op.known)).status, where).toBe(403);
      // Reviewers work the queue only (what they may do is tested in tasks-api.test.ts).
      if (!op.template.startsWith(`${PREFIX}/tasks`)) expect((await call(t.reviewerToken, op.method, op.known)).status, where).toBe(403);
      // Bad input: an unknown query parameter, and for a POST a malformed or oversized JSON body.
      expect((await admin(op.method, `${op.known}?bogus=1`)).status, where).toBe(400);
      if (op.method === "POST") {
        expect((await admin("POST", op.known, "{not json")).status, where).toBe(400);
        expect((await admin("POST", op.known, { note: "x".repeat(70_000) })).status, where).toBe(413);
      }
      // An unknown id, with a body that would otherwise be accepted.
      if (op.unknown !== undefined) expect((await admin(op.method, op.unknown, op.template.endsWith("/fail") ? { reason: "x" } : undefined)).status, where).toBe(404);
    }
    for (const verb of ["claim", "complete", "fail", "reopen"]) {
      expect((await admin("POST", `/tasks/${ids.task}/${verb}`, "x", { "Content-Type": "text/plain" })).status).toBe(415);
      expect((await admin("POST", `/tasks/${ids.doneTask}/${verb}`, verb === "fail" ? { reason: "late" } : {})).status).toBe(412);
    }
    expect((await admin("POST", `/tasks/${ids.task}/fail`, {})).status).toBe(400);
    for (const path of ["/tokens", `/tokens/${ids.token}/rotate`, `/tokens/${ids.token}/revoke`]) {
      expect((await admin("POST", path, "x", { "Content-Type": "text/plain" })).status, path).toBe(415);
    }
    // ids.token is revoked: it can neither rotate nor be revoked again.
    expect((await admin("POST", `/tokens/${ids.token}/rotate`)).status).toBe(412);
    expect((await admin("POST", `/tokens/${ids.token}/revoke`)).status).toBe(412);
    expect((await admin("POST", "/tokens", { name: "env:SCIM_BRIDGE_SCIM_TOKEN", scope: "scim" })).status).toBe(400);
    // ids.approval is rejected: it cannot be decided again.
    for (const verb of ["approve", "reject"]) {
      expect((await admin("POST", `/approvals/${ids.approval}/${verb}`)).status).toBe(412);
      expect((await admin("POST", `/approvals/${ids.approval}/${verb}`, "x", { "Content-Type": "text/plain" })).status).toBe(415);
    }
    // contract-okta is rotated out with a successor of the same name: taken for a new token, ambiguous to revoke or rotate by.
    const twin = await admin("POST", "/tokens", { name: "contract-twin", scope: "scim" });
    expect((await admin("POST", "/tokens", { name: "contract-twin", scope: "scim" })).status).toBe(409);
    await admin("POST", "/tokens/contract-twin/rotate", { overlapSeconds: 3600 });
    expect((await admin("POST", "/tokens/contract-twin/revoke")).status).toBe(409);
    expect((await admin("POST", `/tokens/${twin.body.token.id}/rotate`)).status).toBe(412);
  });

  it("answers every response the document promises for /admin/api", () => {
    const missing = documentedResponses(doc, PREFIX).filter((key) => !seen.has(key) && !(key in NOT_EXERCISED));
    expect(missing).toEqual([]);
    // And nothing was answered that the document does not promise (checkResponse enforced it per call).
    for (const key of seen) expect(documentedResponses(doc, PREFIX), key).toContain(key);
  });
});

describe("the contract check fails when a response and the document drift apart", () => {
  const mutate = (fn: (d: OpenApiDocument) => void): OpenApiDocument => {
    const copy = structuredClone(doc);
    fn(copy);
    return copy;
  };
  const sample = (key: string) => {
    const s = samples.get(key);
    if (!s) throw new Error(`no sample of ${key}`);
    return { method: key.split(" ")[0]!, path: s.path, status: s.r.status, contentType: s.r.headers.get("content-type"), text: s.r.text };
  };

  it("when the document changes a field's type or forgets a field", () => {
    const task = sample("GET /admin/api/tasks/{id} 200");
    expect(checkResponse(doc, task)).toEqual([]);
    const retyped = mutate((d) => (d["components"].schemas.Task.properties.overdue = { type: "string" }));
    expect(checkResponse(retyped, task)).toEqual([`GET ${task.path} → 200: /overdue: expected string, got boolean`]);
    const forgotten = mutate((d) => delete d["components"].schemas.Task.properties.note);
    expect(checkResponse(forgotten, task).join("\n")).toMatch(/unexpected property "note"/);
  });

  it("when the body loses a required field, gains an unknown one, or comes with an undocumented status or media type", () => {
    const task = sample("GET /admin/api/tasks/{id} 200");
    const { title: _title, ...withoutTitle } = JSON.parse(task.text);
    expect(checkResponse(doc, { ...task, text: JSON.stringify(withoutTitle) }).join("\n")).toMatch(/missing required property "title"/);
    expect(checkResponse(doc, { ...task, text: JSON.stringify({ ...JSON.parse(task.text), secret: 1 }) }).join("\n")).toMatch(/unexpected property "secret"/);
    expect(checkResponse(doc, { ...task, status: 418 }).join("\n")).toMatch(/status 418 is not documented/);
    const problem = sample("GET /admin/api/tasks/{id} 404");
    expect(checkResponse(doc, { ...problem, contentType: "application/json" }).join("\n")).toMatch(/Content-Type "application\/json" is not documented/);
    expect(checkResponse(doc, { ...problem, text: JSON.stringify({ ...JSON.parse(problem.text), status: "404" }) }).join("\n")).toMatch(/\/status: expected integer/);
  });

  it("when a JSON line of the export drifts", () => {
    const exported = sample("GET /admin/api/audit/export 200");
    expect(exported.text.length).toBeGreaterThan(0);
    const lines = exported.text.slice(0, -1).split("\n");
    const drifted = [...lines.slice(0, 1), JSON.stringify({ ...JSON.parse(lines[0]!), at: "yesterday" }), ...lines.slice(1)].join("\n") + "\n";
    expect(checkResponse(doc, { ...exported, text: drifted }).join("\n")).toMatch(/line 2: \/at: "yesterday" is not an RFC 3339 date-time/);
    expect(checkResponse(doc, { ...exported, text: exported.text.slice(0, -1) }).join("\n")).toMatch(/must end with a newline/);
  });
});

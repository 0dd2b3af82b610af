/**
 * GET /metrics on a real bridge over loopback: who may scrape, requests counted under their route
 * template, and the queue, task, drift and connector figures moving as SCIM changes flow to the
 * apps (manual Huntress and portal tasks, HaloPSA through the built-in simulator).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, SCIM_TOKEN } from "../support/bridge.js";
import { startTaskBridge, type TaskBridge } from "../support/admin.js";
import { waitFor } from "../support/provisioning.js";
import { userBody } from "../support/scim.js";
import { parseExposition, sample, type Sample } from "./exposition.js";

const DURATION_COUNT = "scim_bridge_http_request_duration_seconds_count";

describe("/metrics", () => {
  let t: TaskBridge;
  let metricsToken: string;

  beforeAll(async () => {
    // The portal's SLA is 0.36 s, so its tasks turn overdue while the test watches.
    t = await startTaskBridge({ haloPsa: true, portalSlaHours: 0.0001 });
    const issued = t.cli("token", "create", "--scope", "metrics", "--name", "prometheus");
    expect(issued.code, issued.out).toBe(0);
    metricsToken = issued.out.split("\n")[1]!;
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (token: string | null) =>
    fetch(`${t.bridge.running.url}/metrics`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });

  async function scrape(): Promise<Sample[]> {
    const res = await get(metricsToken);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    return parseExposition(text);
  }

  const requests = (samples: Sample[], method: string, route: string, status: number) =>
    sample(samples, DURATION_COUNT, { method, route, status: String(status) }) ?? 0;

  it("takes a metrics or admin token, and refuses no token (401) and a SCIM token (403)", async () => {
    const anonymous = await get(null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-type")).toContain("application/problem+json");
    expect(await anonymous.text()).not.toContain("scim_bridge_");
    const scim = await get(SCIM_TOKEN);
    expect(scim.status).toBe(403);
    expect(await scim.text()).not.toContain("scim_bridge_");

    const res = await get(metricsToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const samples = parseExposition(await res.text());
    // Default process metrics, under the bridge's prefix.
    expect(sample(samples, "scim_bridge_process_resident_memory_bytes")).toBeGreaterThan(0);
    // The two refusals above, by reason.
    expect(sample(samples, "scim_bridge_auth_failures_total", { reason: "missing" })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, "scim_bridge_auth_failures_total", { reason: "wrong_scope" })).toBeGreaterThanOrEqual(1);
    expect(sample(samples, "scim_bridge_http_rate_limited_total", { limit: "address" })).toBe(0);
    expect((await get(ADMIN_TOKEN)).status).toBe(200);
  });

  it("counts failed sign-ins on the review page with the API's failed authentications", async () => {
    const failures = async (reason: string) => sample(await scrape(), "scim_bridge_auth_failures_total", { reason }) ?? 0;
    const signIn = async (token: string) => {
      const form = await fetch(`${t.bridge.running.url}/admin/sign-in`);
      const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const res = await fetch(`${t.bridge.running.url}/admin/sign-in`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: form.headers.getSetCookie()[0]!.split(";")[0]! },
        body: new URLSearchParams({ csrf, token, next: "/admin" }),
      });
      return res.status;
    };
    const [unknown, wrongScope] = [await failures("unknown"), await failures("wrong_scope")];
    expect(await signIn("scimbridge_not-a-token-the-bridge-issued")).toBe(401);
    expect(await signIn(SCIM_TOKEN)).toBe(403);
    expect(await failures("unknown")).toBe(unknown + 1);
    expect(await failures("wrong_scope")).toBe(wrongScope + 1);
  });

  it("counts each request under its route template and status, never under a path with an id, a filter or an email", async () => {
    const before = await scrape();
    const created = await t.bridge.scim("POST", "/Users", userBody("grace.hopper@example.com", { emails: [{ value: "grace.hopper@example.com", primary: true }] }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await t.bridge.scim("GET", `/Users/${id}`)).status).toBe(200);
    expect((await t.bridge.scim("GET", `/Users/${id}`)).status).toBe(200);
    expect((await t.bridge.scim("GET", "/Users/no-such-user")).status).toBe(404);
    expect((await t.bridge.scim("GET", `/Users?filter=${encodeURIComponent('userName eq "grace.hopper@example.com"')}`)).status).toBe(200);
    expect((await t.bridge.scim("GET", `/Users/${id}`, undefined, { Authorization: null })).status).toBe(401);
    expect((await t.bridge.scim("GET", "/NoSuchThing/1/2")).status).toBe(404);
    expect((await fetch(`${t.bridge.running.url}/no-such-page?email=grace.hopper@example.com`)).status).toBe(404);
    expect((await t.admin("GET", "/tasks/999999")).status).toBe(404);
    const after = await scrape();

    const moved = (method: string, route: string, status: number) => requests(after, method, route, status) - requests(before, method, route, status);
    expect(moved("POST", "/scim/v2/Users", 201)).toBe(1);
    expect(moved("GET", "/scim/v2/Users/:id", 200)).toBe(2);
    expect(moved("GET", "/scim/v2/Users/:id", 404)).toBe(1);
    expect(moved("GET", "/scim/v2/Users/:id", 401)).toBe(1);
    expect(moved("GET", "/scim/v2/Users", 200)).toBe(1);
    expect(moved("GET", "unmatched", 404)).toBe(2);
    expect(moved("GET", "/admin/api/tasks/:id", 404)).toBe(1);
    // The scrape before this one, under its own route.
    expect(moved("GET", "/metrics", 200)).toBe(1);
    // A histogram: the +Inf bucket holds every request, and the time spent is positive.
    expect(sample(after, "scim_bridge_http_request_duration_seconds_bucket", { method: "POST", route: "/scim/v2/Users", status: "201", le: "+Inf" })).toBe(
      requests(after, "POST", "/scim/v2/Users", 201),
    );
    expect(sample(after, "scim_bridge_http_request_duration_seconds_sum", { method: "POST", route: "/scim/v2/Users", status: "201" })).toBeGreaterThan(0);

    const labelValues = after.flatMap((s) => Object.values(s.labels));
    for (const v of labelValues) {
      expect(v).not.toContain(id);
      expect(v).not.toContain("example.com");
      expect(v).not.toContain("grace");
      expect(v).not.toMatch(/\?|no-such/);
    }
    const routes = new Set(after.filter((s) => s.name === DURATION_COUNT).map((s) => s.labels["route"]));
    for (const route of routes) expect(route, route).toMatch(/^(unmatched|\/[\w./:-]*)$/);
  });

  it("shows open and overdue tasks per app, dead letters and the calls made to HaloPSA", async () => {
    const start = await scrape();
    // Every configured app has its task series, at 0 before anything happens.
    for (const app of ["huntress", "portal", "halopsa"]) expect(sample(start, "scim_bridge_tasks_open", { app })).toBe(0);
    expect(sample(start, "scim_bridge_jobs_dead_letters")).toBe(0);
    const haloOkBefore = sample(start, "scim_bridge_connector_requests_total", { app: "halopsa", outcome: "ok" }) ?? 0;

    const ada = await t.newUser("Ada Lovelace");
    await t.joinGroup(ada, "Huntress Users");
    await t.joinGroup(ada, "Portal Users");
    await t.joinGroup(ada, "HaloPSA Agents");
    const bob = await t.newUser("Bob Broken");
    // A team HaloPSA does not have: the job is dead-lettered at once.
    await t.joinGroup(bob, "HaloPSA Broken");

    const samples = await waitFor(
      async () => {
        const s = await scrape();
        return sample(s, "scim_bridge_tasks_overdue", { app: "portal" }) === 1 && sample(s, "scim_bridge_jobs_dead_letters") === 1 && s;
      },
      10_000,
      "an overdue portal task and a dead letter",
    );
    expect(sample(samples, "scim_bridge_tasks_open", { app: "huntress" })).toBe(1);
    expect(sample(samples, "scim_bridge_tasks_overdue", { app: "huntress" })).toBe(0);
    expect(sample(samples, "scim_bridge_tasks_open", { app: "portal" })).toBe(1);
    expect(sample(samples, "scim_bridge_tasks_open", { app: "halopsa" })).toBe(0);
    expect(sample(samples, "scim_bridge_connector_requests_total", { app: "halopsa", outcome: "ok" })).toBeGreaterThan(haloOkBefore);
    expect(t.bridge.running.haloPsaSimulator).toBeDefined();
    expect([...t.bridge.running.haloPsaSimulator!.state.agents.values()].some((a) => a.email === "ada.lovelace@example.com")).toBe(true);
    // Nothing is pending: the dead letter is not queue depth.
    expect(sample(samples, "scim_bridge_jobs", { state: "queued" })).toBe(0);
    expect(sample(samples, "scim_bridge_jobs", { state: "running" })).toBe(0);
    expect(sample(samples, "scim_bridge_jobs_oldest_age_seconds")).toBe(0);
  });

  it("shows drift found by a reconcile per app and kind", async () => {
    // An agent made in HaloPSA by hand, that no rule grants: an orphan.
    t.bridge.running.haloPsaSimulator!.seedAgent({ name: "Mallory", email: "mallory@example.com" });
    expect((await t.admin("POST", "/reconcile")).status).toBe(200);
    const samples = await scrape();
    expect(sample(samples, "scim_bridge_drift_items", { app: "halopsa", kind: "orphan" })).toBe(1);
  });

  it("shows queued jobs and the age of the oldest while no worker takes them", async () => {
    // The reconcile above queued every user; the worker gathers them into one pass first (up to 1 s).
    await waitFor(async () => sample(await scrape(), "scim_bridge_jobs", { state: "queued" }) === 0, 10_000);
    await t.bridge.running.worker.stop();
    const carol = await t.newUser("Carol Queued");
    const r = await t.bridge.scim("PATCH", `/Groups/${t.groupId("Huntress Users")}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "add", path: "members", value: [{ value: carol }] }],
    });
    expect(r.status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const samples = await scrape();
    expect(sample(samples, "scim_bridge_jobs", { state: "queued" })).toBe(1);
    expect(sample(samples, "scim_bridge_jobs", { state: "running" })).toBe(0);
    expect(sample(samples, "scim_bridge_jobs_oldest_age_seconds")).toBeGreaterThanOrEqual(0.05);
    expect(sample(samples, "scim_bridge_jobs_dead_letters")).toBe(1);
  });
});

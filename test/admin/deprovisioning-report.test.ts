/**
 * The deprovisioning report on a scripted history with known times (the bridge's clock is the
 * test's), over real HTTP against a real SQLite file: HaloPSA deactivations through the simulator
 * (one after a HaloPSA outage), Huntress removal tasks a reviewer completes, a removal undone by
 * the IdP before anyone acted (never counted), and one still waiting.
 */
import { describe, expect, it } from "vitest";
import { AGENTS } from "../support/provisioning.js";
import { parseExposition, sample } from "../metrics/exposition.js";
import { ADMIN_TOKEN } from "../support/bridge.js";
import { checkResponse, loadOpenApi } from "../support/openapi-contract.js";
import { patch } from "../support/scim.js";
import { HUNTRESS_USERS, REVIEWER, startEvidenceBridge, type EvidenceBridge } from "../support/evidence.js";

const T0 = "2026-03-02T09:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const HOUR = 60;

/** Everyone in place the day before: HaloPSA agents made through the API, Huntress accounts invited and confirmed by a reviewer. */
async function staffed(e: EvidenceBridge): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const name of ["ann", "ben", "cy"]) {
    ids[name] = await e.newUser(`${name}.halo@example.com`);
    await e.join(ids[name], AGENTS);
  }
  for (const name of ["hal", "ivy", "jo", "kim"]) {
    ids[name] = await e.newUser(`${name}.hunt@example.com`);
    await e.join(ids[name], HUNTRESS_USERS);
    await e.complete(e.openTask(ids[name], "huntress")); // the invitation sent
    await e.complete(e.openTask(ids[name], "huntress")); // accepted: confirmed
  }
  return ids;
}

describe("GET /admin/api/reports/deprovisioning", () => {
  it("measures each removal from the IdP request to the access gone, per app and overall, and lists who still waits", async () => {
    const e = await startEvidenceBridge(at(-24 * HOUR));
    const ids = await staffed(e);

    e.setTime(T0);
    await e.leave(ids["ann"]!, AGENTS, "okta-remove-ann"); // HaloPSA: deactivated at once
    await e.leave(ids["hal"]!, HUNTRESS_USERS, "okta-remove-hal"); // Huntress: a removal task

    e.setTime(at(30));
    const deactivate = await e.scim("PATCH", `/Users/${ids["cy"]}`, patch({ op: "replace", value: { active: false } }), "okta-deactivate-cy");
    expect(deactivate.status, deactivate.text).toBe(200);
    await e.settle();

    // HaloPSA is down when ben leaves: the deactivation fails and waits to be retried.
    e.setTime(at(HOUR));
    e.sim.faults.failNext(1_000_000, { status: 503, match: { method: "POST", path: "/api/Agent" } });
    await e.leave(ids["ben"]!, AGENTS, "okta-remove-ben");
    await e.leave(ids["ivy"]!, HUNTRESS_USERS, "okta-remove-ivy");
    const during = await e.admin("GET", "/reports/deprovisioning");
    expect(during.status, during.text).toBe(200);
    const benWaiting = during.body.waiting.find((w: { userId: string }) => w.userId === ids["ben"]);
    expect(benWaiting).toMatchObject({ app: "halopsa", requestId: "okta-remove-ben", requestedAt: at(HOUR), waitingOn: { kind: "retrying-job" } });

    // A mistake undone: jo leaves and is put back before anyone acted on the removal task.
    e.setTime(at(2 * HOUR));
    await e.leave(ids["jo"]!, HUNTRESS_USERS, "okta-remove-jo");
    e.setTime(at(2 * HOUR + 30));
    await e.join(ids["jo"]!, HUNTRESS_USERS, "okta-readd-jo");

    // HaloPSA is back; the retry deactivates ben two hours after the IdP asked.
    e.setTime(at(3 * HOUR));
    e.sim.faults.reset();
    await e.bridge.running.worker.drain();
    await e.settle();
    expect([...e.sim.state.agents.values()].find((a) => a.email === "ben.halo@example.com")?.isdisabled).toBe(true);

    e.setTime(at(4 * HOUR));
    await e.complete(e.openTask(ids["hal"]!, "huntress"), "removed in Settings > Users");
    e.setTime(at(5 * HOUR));
    await e.leave(ids["kim"]!, HUNTRESS_USERS, "okta-remove-kim"); // nobody acts on it
    const kimTask = e.openTask(ids["kim"]!, "huntress");
    e.setTime(at(25 * HOUR));
    await e.complete(e.openTask(ids["ivy"]!, "huntress"));

    e.setTime(at(48 * HOUR));
    const r = await e.admin("GET", `/reports/deprovisioning?since=${encodeURIComponent(at(-HOUR))}&until=${encodeURIComponent(at(24 * HOUR))}`);
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    // Done, waiting and per-app figures all as openapi.yaml documents them.
    expect(checkResponse(loadOpenApi(), { method: "GET", path: "/admin/api/reports/deprovisioning", status: 200, contentType: r.headers.get("content-type"), text: r.text })).toEqual([]);
    // Durations: ann 0, cy 0, ben 7200 (HaloPSA); hal 14400, ivy 86400 (Huntress). Nearest rank over 5: p50 is the 3rd, p90 the 5th.
    expect(r.body).toMatchObject({
      generatedAt: at(48 * HOUR),
      since: at(-HOUR),
      until: at(24 * HOUR),
      percentileMethod: "nearest-rank",
      overall: { removals: 5, p50Seconds: 7200, p90Seconds: 86400, maxSeconds: 86400 },
      apps: [
        { app: "halopsa", removals: 3, p50Seconds: 0, p90Seconds: 7200, maxSeconds: 7200 },
        { app: "huntress", removals: 2, p50Seconds: 14400, p90Seconds: 86400, maxSeconds: 86400 },
      ],
    });
    const byUser = (id: string) => r.body.removals.filter((x: { userId: string }) => x.userId === id);
    expect(byUser(ids["hal"]!)).toEqual([
      {
        userId: ids["hal"],
        userName: "hal.hunt@example.com",
        app: "huntress",
        requestId: "okta-remove-hal",
        requestedAt: T0,
        goneAt: at(4 * HOUR),
        goneBy: `token:${REVIEWER}`,
        how: "task",
        seconds: 14400,
        waitingOn: null,
      },
    ]);
    expect(byUser(ids["ben"]!)).toMatchObject([{ app: "halopsa", requestId: "okta-remove-ben", requestedAt: at(HOUR), goneAt: at(3 * HOUR), goneBy: "worker", how: "api", seconds: 7200 }]);
    expect(byUser(ids["cy"]!)).toMatchObject([{ app: "halopsa", requestId: "okta-deactivate-cy", seconds: 0 }]);
    // The undone removal is neither counted nor waiting.
    expect(byUser(ids["jo"]!)).toEqual([]);
    expect(r.body.waiting.map((w: { userId: string }) => w.userId)).toEqual([ids["kim"]]);
    expect(r.body.waiting[0]).toMatchObject({
      app: "huntress",
      userName: "kim.hunt@example.com",
      requestId: "okta-remove-kim",
      requestedAt: at(5 * HOUR),
      waitingOn: { kind: "task", taskId: kimTask, state: "open" },
      waitingSeconds: 43 * 3600,
    });
    // kim's removal was requested in the period: listed, not counted.
    expect(byUser(ids["kim"]!)).toMatchObject([{ goneAt: null, seconds: null }]);

    // since is inclusive, until exclusive: only the removals requested in [1 h, 2 h).
    const narrow = await e.admin("GET", `/reports/deprovisioning?since=${encodeURIComponent(at(HOUR))}&until=${encodeURIComponent(at(2 * HOUR))}`);
    expect(narrow.body.overall).toEqual({ removals: 2, p50Seconds: 7200, p90Seconds: 86400, maxSeconds: 86400 });
    expect(narrow.body.removals.map((x: { userId: string }) => x.userId).sort()).toEqual([ids["ben"], ids["ivy"]].sort());

    // CSV: one row per removal requested in the period, by Accept or by ?format=csv.
    const csv = await e.admin("GET", `/reports/deprovisioning?since=${encodeURIComponent(at(-HOUR))}&until=${encodeURIComponent(at(24 * HOUR))}`, undefined, { Accept: "text/csv" });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    const lines = csv.text.split("\r\n");
    expect(lines[0]).toBe("user_id,user_name,app,request_id,requested_at,gone_at,seconds,gone_by,how,waiting_on");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(1, -1)).toHaveLength(6);
    expect(lines).toContain(`${ids["hal"]},hal.hunt@example.com,huntress,okta-remove-hal,${T0},${at(4 * HOUR)},14400,token:${REVIEWER},task,`);
    expect(lines).toContain(`${ids["kim"]},kim.hunt@example.com,huntress,okta-remove-kim,${at(5 * HOUR)},,,,,task #${kimTask} (open): Remove kim hunt from Huntress`);
    const byFormat = await e.admin("GET", `/reports/deprovisioning?format=csv&since=${encodeURIComponent(at(-HOUR))}&until=${encodeURIComponent(at(24 * HOUR))}`);
    expect(byFormat.text).toBe(csv.text);

    // The same removals as a Prometheus histogram per app (every removal the log holds, not a period).
    const scrape = await fetch(`${e.bridge.running.url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const samples = parseExposition(await scrape.text());
    const bucket = (app: string, le: string) => sample(samples, "scim_bridge_deprovision_seconds_bucket", { app, le });
    expect(sample(samples, "scim_bridge_deprovision_seconds_count", { app: "halopsa" })).toBe(3);
    expect(sample(samples, "scim_bridge_deprovision_seconds_sum", { app: "halopsa" })).toBe(7200);
    expect([bucket("halopsa", "60"), bucket("halopsa", "3600"), bucket("halopsa", "7200")]).toEqual([2, 2, 3]);
    expect(sample(samples, "scim_bridge_deprovision_seconds_count", { app: "huntress" })).toBe(2);
    expect([bucket("huntress", "14400"), bucket("huntress", "28800"), bucket("huntress", "86400"), bucket("huntress", "+Inf")]).toEqual([1, 1, 2, 2]);
  });

  it("counts a removal held for approval from the IdP request, not from the admin's approval, and lists it as waiting on the approval meanwhile", async () => {
    const e = await startEvidenceBridge(at(-HOUR), { deprovisionLimit: { count: 1, windowMinutes: 60 } });
    const ann = await e.newUser("ann.halo@example.com");
    const ben = await e.newUser("ben.halo@example.com");
    await e.join(ann, AGENTS);
    await e.join(ben, AGENTS);
    e.setTime(T0);
    await e.leave(ann, AGENTS, "okta-remove-ann"); // the one deprovision the limit allows
    await e.leave(ben, AGENTS, "okta-remove-ben"); // held
    const held = await e.admin("GET", "/reports/deprovisioning");
    expect(held.body.waiting).toMatchObject([{ userId: ben, app: "halopsa", requestId: "okta-remove-ben", requestedAt: T0, waitingOn: { kind: "approval" } }]);

    e.setTime(at(2 * HOUR));
    const sets = await e.admin("GET", "/approvals");
    expect(sets.status, sets.text).toBe(200);
    const approved = await e.admin("POST", `/approvals/${sets.body.changeSets[0].id}/approve`, { note: "the leaver is right" });
    expect(approved.status, approved.text).toBe(200);
    await e.settle();
    expect([...e.sim.state.agents.values()].find((a) => a.email === "ben.halo@example.com")?.isdisabled).toBe(true);

    const r = await e.admin("GET", "/reports/deprovisioning");
    expect(r.body.waiting).toEqual([]);
    expect(r.body.removals).toMatchObject([
      { userId: ann, requestId: "okta-remove-ann", seconds: 0 },
      { userId: ben, requestId: "okta-remove-ben", requestedAt: T0, goneAt: at(2 * HOUR), seconds: 7200 },
    ]);
  });

  it("refuses a bad period with a 400 problem, and is for admins only", async () => {
    const e = await startEvidenceBridge(T0);
    for (const query of ["since=yesterday", "until=2026-13-40", `since=${at(60)}&until=${at(0)}`, "since=2026-03-02&until=2026-03-02", "sinse=2026-03-01"]) {
      const r = await e.admin("GET", `/reports/deprovisioning?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ type: "about:blank", title: "Bad Request", status: 400 });
    }
    expect((await e.reviewer("GET", "/reports/deprovisioning")).status).toBe(403);
    const empty = await e.admin("GET", "/reports/deprovisioning");
    expect(empty.body).toMatchObject({ since: at(-30 * 24 * 60), until: T0, overall: { removals: 0, p50Seconds: null, p90Seconds: null, maxSeconds: null }, apps: [], removals: [], waiting: [] });
  });
});

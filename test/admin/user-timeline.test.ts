/**
 * A person's access timeline over real HTTP against a real SQLite file, with the bridge's clock in
 * the test's hands: what the IdP did (with its request ids), what happened in HaloPSA (through the
 * simulator) and in Huntress (tasks a reviewer worked), who did each, and a verification detail
 * shown as the event records it. A user the IdP deleted keeps their history.
 */
import { describe, expect, it } from "vitest";
import { checkResponse, loadOpenApi } from "../support/openapi-contract.js";
import { AGENTS } from "../support/provisioning.js";
import { HUNTRESS_USERS, REVIEWER, startEvidenceBridge } from "../support/evidence.js";

const T0 = "2026-03-02T09:00:00.000Z";
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

interface Entry {
  at: string;
  source: string;
  app: string | null;
  action: string;
  summary: string;
  actor: string;
  requestId: string | null;
  verification: unknown;
}

describe("GET /admin/api/users/{id}/timeline", () => {
  it("lists every access change of a Huntress user oldest first: IdP grant and removal, each task step, who did it", async () => {
    const e = await startEvidenceBridge(T0);
    const hal = await e.newUser("hal.hunt@example.com");
    e.setTime(at(1));
    await e.join(hal, HUNTRESS_USERS, "okta-add-hal");
    e.setTime(at(10));
    const invite = e.openTask(hal, "huntress");
    await e.complete(invite, "invited from Settings > Users");
    const confirm = e.openTask(hal, "huntress");
    e.setTime(at(60));
    await e.complete(confirm);
    e.setTime(at(120));
    await e.leave(hal, HUNTRESS_USERS, "okta-remove-hal");
    const removal = e.openTask(hal, "huntress");
    e.setTime(at(150));
    expect((await e.reviewer("POST", `/tasks/${removal}/claim`)).status).toBe(200);
    e.setTime(at(180));
    await e.complete(removal, "removed");

    const r = await e.admin("GET", `/users/${hal}/timeline`);
    expect(r.status, r.text).toBe(200);
    expect(checkResponse(loadOpenApi(), { method: "GET", path: `/admin/api/users/${hal}/timeline`, status: 200, contentType: r.headers.get("content-type"), text: r.text })).toEqual([]);
    expect(r.body).toMatchObject({ userId: hal, userName: "hal.hunt@example.com", inDirectory: true, generatedAt: at(180) });
    const entries = r.body.entries as Entry[];
    expect(entries.map((x) => x.at)).toEqual([...entries.map((x) => x.at)].sort());
    const reviewer = `token:${REVIEWER}`;
    expect(entries.map((x) => [x.at, x.source, x.app, x.summary, x.actor, x.requestId])).toEqual([
      [T0, "idp", null, "IdP created the user", "env:SCIM_BRIDGE_SCIM_TOKEN", "okta-create-hal"],
      [at(1), "idp", null, 'IdP added them to group "Huntress Users"', "env:SCIM_BRIDGE_SCIM_TOKEN", "okta-add-hal"],
      [at(1), "app", "huntress", "account created as standard (pending)", "worker", "okta-add-hal"],
      [at(1), "app", "huntress", `task #${invite} raised: Invite hal hunt to Huntress as Standard User`, "worker", "okta-add-hal"],
      [at(10), "app", "huntress", `task #${invite} done: invited from Settings > Users`, reviewer, "okta-add-hal"],
      [at(10), "app", "huntress", `task #${confirm} raised: Confirm hal hunt accepted the Huntress invitation`, "bridge", "okta-add-hal"],
      [at(60), "app", "huntress", `task #${confirm} done`, reviewer, "okta-add-hal"],
      [at(120), "idp", null, 'IdP removed them from group "Huntress Users"', "env:SCIM_BRIDGE_SCIM_TOKEN", "okta-remove-hal"],
      [at(120), "app", "huntress", "removal started", "worker", "okta-remove-hal"],
      [at(120), "app", "huntress", `task #${removal} raised: Remove hal hunt from Huntress`, "worker", "okta-remove-hal"],
      [at(150), "app", "huntress", `task #${removal} claimed`, reviewer, "okta-remove-hal"],
      [at(180), "app", "huntress", `task #${removal} done: removed`, reviewer, "okta-remove-hal"],
    ]);
    // A manual Huntress app cannot be read: each completion says it was taken on the reviewer's word.
    expect(entries.filter((x) => x.action === "task.done").map((x) => x.verification)).toEqual(["unverifiable", "unverifiable", "unverifiable"]);
    expect(entries.filter((x) => x.action !== "task.done").every((x) => x.verification === null)).toBe(true);
  });

  it("keeps a deleted user's history readable, with the HaloPSA deactivation it caused, and answers 404 for a user nobody knows", async () => {
    const e = await startEvidenceBridge(T0);
    const ann = await e.newUser("ann.halo@example.com");
    await e.join(ann, AGENTS, "okta-add-ann");
    e.setTime(at(5));
    const deleted = await e.scim("DELETE", `/Users/${ann}`, undefined, "entra-delete-ann");
    expect(deleted.status, deleted.text).toBe(204);
    await e.settle();
    expect([...e.sim.state.agents.values()].find((a) => a.email === "ann.halo@example.com")?.isdisabled).toBe(true);

    const r = await e.admin("GET", `/users/${ann}/timeline`);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ userId: ann, userName: "ann.halo@example.com", inDirectory: false });
    const summaries = (r.body.entries as Entry[]).map((x) => [x.summary, x.requestId]);
    expect(summaries).toContainEqual(["account created as agent (active)", "okta-add-ann"]);
    expect(summaries).toContainEqual(["IdP deleted the user", "entra-delete-ann"]);
    expect(summaries).toContainEqual(["account deactivated (disabled)", "entra-delete-ann"]);

    const unknown = await e.admin("GET", "/users/no-such-user/timeline");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({ type: "about:blank", title: "Not Found", status: 404 });
    expect((await e.admin("GET", `/users/${ann}/timeline?x=1`)).status).toBe(400);
    expect((await e.reviewer("GET", `/users/${ann}/timeline`)).status).toBe(403);
  });
});

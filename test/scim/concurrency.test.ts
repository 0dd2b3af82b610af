/**
 * Concurrent writes as IdPs produce them: Entra fans group-membership PATCHes out in parallel,
 * retries create the same user twice, and two writers race on one user. Nothing may be lost,
 * duplicated, or silently overwritten: PATCH races that wipe group members and duplicate accounts
 * after retries are what admins meet with other SCIM servers.
 */
import { describe, expect, it } from "vitest";
import { byCodeUnit, CORE_GROUP, CORE_USER, create, openReadOnly, patch, userBody, useBridge } from "../support/scim.js";

describe("concurrent writes", () => {
  const bridge = useBridge();
  const createUser = (userName: string, extra: Record<string, unknown> = {}): Promise<any> => create(bridge, "Users", userBody(userName, extra));

  it("loses none of 50 parallel PATCHes that each add a different member to one group", async () => {
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => createUser(`fan.out.${i}@example.com`)));
    const group = await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName: "Fan-out", members: [] });
    expect(group.status).toBe(201);

    const results = await Promise.all(
      users.map((u) => bridge.scim("PATCH", `/Groups/${group.body.id as string}`, patch({ op: "Add", path: "members", value: [{ $ref: null, value: u.id }] }))),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 204));

    const read = await bridge.scim("GET", `/Groups/${group.body.id as string}`);
    expect(read.body.members).toHaveLength(50);
    expect(read.body.members.map((m: any) => m.value).sort(byCodeUnit)).toEqual(users.map((u) => u.id).sort(byCodeUnit));

    // Each PATCH is one audited change, and the group's version moved once per change.
    const db = openReadOnly(bridge);
    try {
      const events = db.prepare("SELECT after FROM audit_events WHERE action = 'group.patch' AND resource_id = ?").all(group.body.id) as { after: string }[];
      expect(events).toHaveLength(50);
      const added = events.flatMap((e) => (JSON.parse(e.after) as { membersAdded: string[] }).membersAdded);
      expect(added.sort(byCodeUnit)).toEqual(users.map((u) => u.id).sort(byCodeUnit));
    } finally {
      db.close();
    }
    expect(read.body.meta.version).toBe('W/"51"');
  });

  it("creates exactly one user from 20 parallel POSTs of the same userName (one 201, the rest 409 uniqueness)", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        // Retries differ in case too: userName is unique case-insensitively (RFC 7643 §4.1.1).
        bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: i % 2 === 0 ? "retry.storm@example.com" : "Retry.Storm@Example.com", title: `attempt ${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status).sort((a, b) => a - b);
    expect(statuses).toEqual([201, ...Array.from({ length: 19 }, () => 409)]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.scimType).toBe("uniqueness");

    const winner = results.find((r) => r.status === 201)!;
    const found = await bridge.scim("GET", `/Users?filter=${encodeURIComponent('userName eq "retry.storm@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).toMatchObject({ id: winner.body.id, title: winner.body.title });
  });

  it("lets exactly one of a PUT and a PATCH with the same If-Match win, and keeps the winner's change", async () => {
    for (let round = 0; round < 10; round++) {
      const created = await createUser(`race.${round}@example.com`, { name: { givenName: "Race", familyName: "Original" } });
      const etag = created.meta.version as string;

      const sendPut = () =>
        bridge.scim("PUT", `/Users/${created.id as string}`, { schemas: [CORE_USER], userName: created.userName, name: { givenName: "Race", familyName: "FromPut" } }, { "If-Match": etag });
      const sendPatch = () =>
        bridge.scim("PATCH", `/Users/${created.id as string}`, patch({ op: "replace", path: "name.familyName", value: "FromPatch" }), { "If-Match": etag });
      // Alternate which request leaves first, so each side is sometimes the one that must lose.
      const [put, patched] =
        round % 2 === 0
          ? await Promise.all([sendPut(), sendPatch()])
          : await Promise.all([sendPatch(), sendPut()]).then(([pa, pu]) => [pu, pa] as const);
      expect([put.status, patched.status].sort((a, b) => a - b)).toEqual([200, 412]);
      const winner = put.status === 200 ? "FromPut" : "FromPatch";

      const read = await bridge.scim("GET", `/Users/${created.id as string}`);
      expect(read.body.name.familyName).toBe(winner);
      // One write happened: the version moved exactly once.
      expect(read.body.meta.version).toBe('W/"2"');
      expect(read.headers.get("etag")).toBe('W/"2"');
    }
  });

  it("lets exactly one of two group PATCHes with the same If-Match win", async () => {
    const [a, b] = [await createUser("if.match.a@example.com"), await createUser("if.match.b@example.com")];
    const group = (await bridge.scim("POST", "/Groups", { schemas: [CORE_GROUP], displayName: "If-Match race" })).body;

    const results = await Promise.all(
      [a, b].map((u) =>
        bridge.scim("PATCH", `/Groups/${group.id as string}`, patch({ op: "replace", path: "members", value: [{ value: u.id }] }), { "If-Match": group.meta.version }),
      ),
    );
    expect(results.map((r) => r.status).sort((x, y) => x - y)).toEqual([204, 412]);
    const winner = results[0]!.status === 204 ? a : b;
    const read = await bridge.scim("GET", `/Groups/${group.id as string}`);
    expect(read.body.members.map((m: any) => m.value)).toEqual([winner.id]);
    expect(read.body.meta.version).toBe('W/"2"');
  });
});

/**
 * The Huntress simulator answers like the official API reference (the Huntress API Reference, api.huntress.io/docs):
 * HTTP Basic, the memberships envelopes, invitations that become memberships only once accepted,
 * keyset pages with next_page_token, the 60-requests-per-minute sliding window, and the faults
 * tests switch on at runtime. Plain fetch, no client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startHuntressSimulator, type HuntressSimulator } from "../../src/dev/huntress-simulator.js";

interface Res {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

const basic = (key: string, secret: string): string => `Basic ${Buffer.from(`${key}:${secret}`).toString("base64")}`;

describe("Huntress simulator", () => {
  let sim: HuntressSimulator;
  let now = Date.parse("2026-01-22T01:07:08Z");
  const api = (path: string, init: RequestInit = {}): Promise<Res> =>
    call(`${sim.url}${path}`, { ...init, headers: { Authorization: basic(sim.apiKey, sim.apiSecret), "Content-Type": "application/json", ...init.headers } });
  const post = (path: string, body: unknown): Promise<Res> => api(path, { method: "POST", body: JSON.stringify(body) });
  const patchTo = (path: string, body: unknown): Promise<Res> => api(path, { method: "PATCH", body: JSON.stringify(body) });
  const invite = (email: string, permissions = "User", extra: Record<string, unknown> = {}): Promise<Res> =>
    post("/v1/memberships", { email, first_name: "Ada", last_name: "Lovelace", permissions, ...extra });

  beforeAll(async () => {
    sim = await startHuntressSimulator({ clock: { now: () => new Date(now) }, rateLimit: null });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => {
    sim.faults.reset();
    sim.setRateLimit(null);
    sim.setMembershipsScope(true);
  });

  describe("authentication (HTTP Basic with API key and secret)", () => {
    it("answers 401 with a Basic challenge without credentials, with a wrong secret, and with a bearer token", async () => {
      for (const authorization of [undefined, basic(sim.apiKey, "wrong"), basic("other-key", sim.apiSecret), "Bearer abc"]) {
        const res = await call(`${sim.url}/v1/memberships`, authorization === undefined ? {} : { headers: { Authorization: authorization } });
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
        expect(res.body).toEqual({ error: "Authentication credentials are missing or invalid." });
      }
      expect((await api("/v1/memberships")).status).toBe(200);
    });
  });

  describe("invitations and memberships", () => {
    it("answers a POST with 201 {member_invitation} and lists no membership until the invitee accepts", async () => {
      const res = await invite("ada@example.com", "Admin");
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        member_invitation: { permissions: "Admin", account: { id: 1234, name: "Exemplary Accounting, LLC" }, user: { email: "ada@example.com", name: "Ada Lovelace" } },
      });
      expect(sim.membershipsOf("ada@example.com")).toEqual([]);
      const [m] = sim.acceptInvitation("ada@example.com");
      const list = await api("/v1/memberships?permissions=Admin");
      expect(list.body.memberships).toContainEqual({
        id: m!.id,
        permissions: "Admin",
        account: { id: 1234, name: "Exemplary Accounting, LLC" },
        user: { id: expect.any(Number), email: "ada@example.com", name: "Ada Lovelace" },
        created_at: "2026-01-22 01:07:08 UTC",
        updated_at: "2026-01-22 01:07:08 UTC",
      });
      expect(list.body.memberships.every((x: any) => !("organization" in x))).toBe(true);
    });

    it("re-sends a pending invitation with the new permissions, and refuses to invite a member again (422)", async () => {
      await invite("bob@example.com", "User");
      expect((await invite("bob@example.com", "Admin")).status).toBe(201);
      expect(sim.invitations.filter((i) => i.email === "bob@example.com").map((i) => i.permissions)).toEqual(["Admin"]);
      sim.acceptInvitation("bob@example.com");
      const again = await invite("bob@example.com");
      expect(again.status).toBe(422);
      expect(again.body.error).toMatch(/already a member/);
    });

    it("validates MembershipCreationParameters the Grape way: one 400 naming every problem", async () => {
      const missing = await post("/v1/memberships", { email: "x@example.com" });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ error: "first_name is missing, last_name is missing, permissions is missing" });
      // Admin-Read-only is a Membership.permissions value but not a writable one.
      for (const permissions of ["Owner", "Admin-Read-only"]) {
        expect((await invite("x@example.com", permissions)).body).toEqual({ error: "permissions does not have a valid value" });
      }
      expect((await invite("not-an-email")).status).toBe(422);
      expect((await api("/v1/memberships", { method: "POST", body: "{not json" })).status).toBe(400);
    });

    it("invites to an organization of the account, and answers 404 for an organization it does not have", async () => {
      const org = sim.state.addOrganization("Organic Zations");
      const res = await invite("org-user@example.com", "Read-only", { organization_id: org.id });
      expect(res.status).toBe(201);
      expect(res.body.member_invitation.organization).toEqual({ id: org.id, name: "Organic Zations" });
      expect(res.body.member_invitation.account).toBeUndefined();
      expect((await invite("org-user@example.com", "User", { organization_id: 999999 })).status).toBe(404);
      sim.acceptInvitation("org-user@example.com");
      const onlyOrg = await api(`/v1/memberships?organization_id=${org.id}`);
      expect(onlyOrg.body.memberships.map((m: any) => m.user.email)).toEqual(["org-user@example.com"]);
    });

    it("changes permissions with PATCH {permissions} (200 {membership}) and removes with DELETE (202, then 404)", async () => {
      await invite("cy@example.com", "User");
      const [m] = sim.acceptInvitation("cy@example.com");
      now += 60_000;
      const changed = await patchTo(`/v1/memberships/${m!.id}`, { permissions: "Admin" });
      expect(changed.status).toBe(200);
      expect(changed.body.membership).toMatchObject({ id: m!.id, permissions: "Admin", updated_at: "2026-01-22 01:08:08 UTC" });
      expect((await patchTo(`/v1/memberships/${m!.id}`, { permissions: "Admin-Read-only" })).status).toBe(400);
      expect((await api(`/v1/memberships/${m!.id}`)).body.membership.permissions).toBe("Admin");
      const removed = await api(`/v1/memberships/${m!.id}`, { method: "DELETE" });
      expect(removed.status).toBe(202);
      expect(removed.body.membership).toMatchObject({ id: m!.id, user: { email: "cy@example.com" } });
      expect((await api(`/v1/memberships/${m!.id}`, { method: "DELETE" })).status).toBe(404);
      expect((await patchTo(`/v1/memberships/${m!.id}`, { permissions: "User" })).status).toBe(404);
      // The user is not deleted with the membership.
      expect([...sim.state.users.values()].some((u) => u.email === "cy@example.com")).toBe(true);
    });

    it("refuses (422) to demote or delete the account's last Admin", async () => {
      const local = await startHuntressSimulator({ rateLimit: null });
      try {
        const [owner] = local.membershipsOf("owner@huntress-customer.example");
        const auth = { Authorization: basic(local.apiKey, local.apiSecret), "Content-Type": "application/json" };
        const demote = await call(`${local.url}/v1/memberships/${owner!.id}`, { method: "PATCH", headers: auth, body: JSON.stringify({ permissions: "User" }) });
        expect(demote.status).toBe(422);
        expect((await call(`${local.url}/v1/memberships/${owner!.id}`, { method: "DELETE", headers: auth })).status).toBe(422);
        local.seedMembership({ email: "second@example.com", permissions: "Admin" });
        expect((await call(`${local.url}/v1/memberships/${owner!.id}`, { method: "DELETE", headers: auth })).status).toBe(202);
      } finally {
        await local.close();
      }
    });

    it("serves the same operations at /v1/accounts/{account_id}/memberships, and 404 for an account the key cannot reach", async () => {
      const managed = sim.state.addManagedAccount("Managed Customer");
      const res = await post(`/v1/accounts/${managed.id}/memberships`, { email: "m@example.com", first_name: "M", last_name: "N", permissions: "User" });
      expect(res.status).toBe(201);
      expect(res.body.member_invitation.account).toEqual({ id: managed.id, name: "Managed Customer" });
      const [m] = sim.acceptInvitation("m@example.com");
      expect((await api(`/v1/accounts/${managed.id}/memberships`)).body.memberships.map((x: any) => x.id)).toEqual([m!.id]);
      // A membership of another account is not found through this one.
      expect((await api(`/v1/memberships/${m!.id}`)).status).toBe(404);
      expect((await api(`/v1/accounts/${managed.id}/memberships/${m!.id}`, { method: "DELETE" })).status).toBe(202);
      expect((await api("/v1/accounts/424242/memberships")).status).toBe(404);
    });
  });

  describe("pagination (limit, page_token, next_page_token)", () => {
    it("pages with next_page_token and next_page_url until the last page, which has neither", async () => {
      const local = await startHuntressSimulator({ rateLimit: null, seedOwner: false });
      try {
        for (let i = 0; i < 25; i++) local.seedMembership({ email: `p${i}@example.com`, permissions: i % 2 ? "User" : "Admin" });
        const get = (q: string) => call(`${local.url}/v1/memberships${q}`, { headers: { Authorization: basic(local.apiKey, local.apiSecret) } });
        const first = await get("");
        // limit defaults to 10; sort defaults to id desc.
        expect(first.body.memberships).toHaveLength(10);
        expect(first.body.memberships[0].id).toBe(25);
        const ids: number[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await get(`?limit=10&sort_direction=asc${token ? `&page_token=${token}` : ""}`);
          expect(page.status).toBe(200);
          ids.push(...page.body.memberships.map((m: any) => m.id));
          token = page.body.pagination.next_page_token;
          if (token) expect(page.body.pagination.next_page_url).toBe(`${local.url}/v1/memberships?page_token=${token}&limit=10`);
          else expect(page.body.pagination).toEqual({});
          pages++;
        } while (token);
        expect(pages).toBe(3);
        expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        expect((await get("?limit=500")).body.memberships).toHaveLength(25);
        expect((await get("?limit=501")).body).toEqual({ error: "limit does not have a valid value" });
        expect((await get("?limit=0")).status).toBe(400);
        expect((await get("?sort_field=email")).body).toEqual({ error: "sort_field does not have a valid value" });
        expect((await get("?page_token=bm9wZQ")).status).toBe(400);
      } finally {
        await local.close();
      }
    });

    it("does not skip anyone when a membership on an earlier page is deleted between two pages (keyset tokens)", async () => {
      const local = await startHuntressSimulator({ rateLimit: null, seedOwner: false });
      try {
        for (let i = 0; i < 6; i++) local.seedMembership({ email: `k${i}@example.com` });
        const get = (q: string) => call(`${local.url}/v1/memberships${q}`, { headers: { Authorization: basic(local.apiKey, local.apiSecret) } });
        const first = await get("?limit=3&sort_direction=asc");
        local.state.memberships.delete(1);
        const second = await get(`?limit=3&sort_direction=asc&page_token=${first.body.pagination.next_page_token}`);
        expect(second.body.memberships.map((m: any) => m.id)).toEqual([4, 5, 6]);
      } finally {
        await local.close();
      }
    });
  });

  describe("rate limit and faults", () => {
    it("follows the reference's sliding-window example: 60 requests in any 60 s, refused requests not counted", async () => {
      sim.setRateLimit({ requests: 60, windowMs: 60_000 });
      const t0 = now;
      const at = async (seconds: number) => {
        now = t0 + seconds * 1000;
        return (await api("/v1/memberships?limit=1")).status;
      };
      expect(await at(0)).toBe(200); // request 1 at T0
      expect(await at(5)).toBe(200); // request 2 at T5
      for (let i = 3; i <= 60; i++) expect(await at(10)).toBe(200); // requests 3..60 at T10
      expect(await at(55)).toBe(429); // request 61 at T55 is refused
      const refused = await api("/v1/memberships");
      expect(refused.body.error).toMatch(/60 requests per minute/);
      expect(await at(61)).toBe(200); // request 61 at T61 succeeds (request 1 left the window)
      expect(await at(61)).toBe(429); // request 62 at T61 fails...
      expect(await at(65.001)).toBe(200); // ...until T65 has passed (request 2 left the window)
    });

    it("answers 403 to every memberships call when the key lacks access to memberships", async () => {
      sim.setMembershipsScope(false);
      for (const res of [await api("/v1/memberships"), await invite("z@example.com"), await patchTo("/v1/memberships/1", { permissions: "User" })]) {
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: "There was an issue with your API credential or permissions." });
      }
    });

    it("injects error bursts, hangs and 429 storms matching a method and path, in the chosen error layout", async () => {
      sim.faults.failNext(2, { status: 503, match: { method: "POST", path: "/memberships" } });
      expect((await api("/v1/memberships")).status).toBe(200);
      expect((await invite("f@example.com")).status).toBe(503);
      expect((await invite("f@example.com")).status).toBe(503);
      expect((await invite("f@example.com")).status).toBe(201);
      sim.faults.errorShape = "status-message";
      sim.faults.failNext(1, { status: 404, message: "Record not found" });
      expect((await api("/v1/memberships")).body).toEqual({ status: 404, message: "Record not found" });
      sim.faults.rateLimitNext(1);
      expect((await api("/v1/memberships")).status).toBe(429);
      sim.faults.hangNext(1);
      const hung = await fetch(`${sim.url}/v1/memberships`, { headers: { Authorization: basic(sim.apiKey, sim.apiSecret) }, signal: AbortSignal.timeout(200) }).then(
        () => "answered",
        () => "hung",
      );
      expect(hung).toBe("hung");
      expect(sim.requestCount("POST", "/v1/memberships")).toBeGreaterThanOrEqual(3);
    });
  });
});

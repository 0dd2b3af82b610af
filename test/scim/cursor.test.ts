/**
 * RFC 9865 cursor paging over real HTTP: walks that equal the directory, walks while another client
 * writes, sortBy and filter walks, the refusals (§2.1), root search (§3), the byte budget, and
 * keyset SQL that an index serves.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { openDatabase } from "../../src/db/database.js";
import { keysetClause, orderClause, parseListQuery } from "../../src/scim/list-query.js";
import { userResource } from "../../src/scim/schema.js";
import { startBridge, type TestBridge } from "../support/bridge.js";
import { CORE_GROUP, create, ERROR, patch, SEARCH_REQUEST, userBody, useBridge } from "../support/scim.js";

type Page = { ids: string[]; userNames: string[]; nextCursor?: string; previousCursor?: string; body: any };

async function page(bridge: TestBridge, query: string): Promise<Page> {
  const res = await bridge.scim("GET", `/Users?${query}`);
  expect(res.status, res.text).toBe(200);
  const resources = res.body.Resources as any[];
  return { ids: resources.map((r) => r.id as string), userNames: resources.map((r) => r.userName as string), nextCursor: res.body.nextCursor, previousCursor: res.body.previousCursor, body: res.body };
}

/** Follows nextCursor from the first page to the last; `between` runs after each page. */
async function walk(bridge: TestBridge, query: string, between: () => Promise<void> = async () => {}): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor = "";
  for (;;) {
    const p = await page(bridge, `${query}&cursor=${encodeURIComponent(cursor)}`);
    pages.push(p);
    if (p.nextCursor === undefined) return pages;
    expect(pages.length, "the walk must end").toBeLessThan(1000);
    cursor = p.nextCursor;
    await between();
  }
}

const idsOf = (pages: readonly Page[]) => pages.flatMap((p) => p.ids);

describe("cursor paging (RFC 9865)", () => {
  const bridge = useBridge();
  const seeded: { id: string; userName: string }[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 60; i++) {
      // Every third user has no title, so sorting by title meets resources without a value.
      const extra = i % 3 === 0 ? {} : { title: `T${(i * 7) % 11}` };
      const u = await create(bridge, "Users", userBody(`walker.${String(i).padStart(2, "0")}@example.com`, extra));
      seeded.push({ id: u.id, userName: u.userName });
    }
  });

  it("walks every user exactly once, in creation order, with nextCursor absent only on the last page", async () => {
    const pages = await walk(bridge, "count=7");
    expect(idsOf(pages)).toEqual(seeded.map((u) => u.id));
    expect(pages).toHaveLength(Math.ceil(seeded.length / 7));
    expect(pages[0]!.previousCursor).toBeUndefined();
    for (const p of pages) {
      expect(p.body.totalResults).toBe(seeded.length);
      expect(p.body.itemsPerPage).toBe(p.ids.length);
      expect(p.body.startIndex).toBeUndefined();
      // RFC 9865 §2: cursor values use only RFC 3986 unreserved characters.
      for (const c of [p.nextCursor, p.previousCursor]) if (c !== undefined) expect(c).toMatch(/^[A-Za-z0-9\-._~]+$/);
    }
  });

  it("reads a cursor parameter without a value (`?cursor`) as the first page, as RFC 9865 §2's example sends it", async () => {
    const first = await page(bridge, "cursor&count=5");
    expect(first.ids).toEqual(seeded.slice(0, 5).map((u) => u.id));
    expect(first.nextCursor).toBeDefined();
    expect(first.body.startIndex).toBeUndefined();
  });

  it("walks back with previousCursor to the same pages, in the default order and by sortBy either way", async () => {
    for (const order of ["count=7", "sortBy=title&count=7", "sortBy=title&sortOrder=descending&count=7"]) {
      const forward = await walk(bridge, order);
      const last = forward.at(-1)!;
      const back: string[][] = [last.ids];
      let cursor = last.previousCursor;
      while (cursor !== undefined) {
        const p = await page(bridge, `${order}&cursor=${cursor}`);
        back.unshift(p.ids);
        expect(p.nextCursor).toBeDefined();
        cursor = p.previousCursor;
      }
      expect(back, order).toEqual(forward.map((p) => p.ids));
    }
  });

  it("walks in the order of sortBy, ascending and descending, resources without the value last and first", async () => {
    for (const sort of ["sortBy=userName", "sortBy=userName&sortOrder=descending", "sortBy=title", "sortBy=title&sortOrder=descending"]) {
      const byIndex = await page(bridge, `${sort}&count=1000`);
      const byCursor = await walk(bridge, `${sort}&count=4`);
      expect(idsOf(byCursor), sort).toEqual(byIndex.ids);
    }
    const titles = (await walk(bridge, "sortBy=title&count=9")).flatMap((p) => p.body.Resources.map((r: any) => r.title ?? null));
    expect(titles.indexOf(null)).toBe(titles.length - seeded.filter((_, i) => i % 3 === 0).length);
  });

  it("walks a filter's matches, and refuses the cursor replayed with another filter", async () => {
    const filter = encodeURIComponent('userName sw "walker.1"');
    const pages = await walk(bridge, `filter=${filter}&count=3`);
    expect(idsOf(pages)).toEqual(seeded.filter((u) => u.userName.startsWith("walker.1")).map((u) => u.id));
    expect(pages[0]!.body.totalResults).toBe(10);

    const other = encodeURIComponent('userName sw "walker.2"');
    const replayed = await bridge.scim("GET", `/Users?filter=${other}&count=3&cursor=${pages[0]!.nextCursor!}`);
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ schemas: [ERROR], status: "400", scimType: "invalidCursor" });
    // A Users cursor against Groups belongs to another list too.
    const usersCursor = (await page(bridge, "count=3&cursor=")).nextCursor!;
    const onGroups = await bridge.scim("GET", `/Groups?count=3&cursor=${usersCursor}`);
    expect(onGroups.body.scimType).toBe("invalidCursor");
  });

  it("refuses a malformed or altered cursor, cursor with startIndex, and a count below 1", async () => {
    const good = (await page(bridge, "count=2&cursor=")).nextCursor!;
    const [body, check] = good.split(".");
    const altered = `${Buffer.from(Buffer.from(body!, "base64url").toString().replace(/"p":\d+/, '"p":1')).toString("base64url")}.${check!}`;
    for (const bad of ["garbage", `${good}x`, altered, good.split(".")[0]!]) {
      const res = await bridge.scim("GET", `/Users?count=2&cursor=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.scimType).toBe("invalidCursor");
    }
    const both = await bridge.scim("GET", "/Users?cursor=&startIndex=2");
    expect(both.status).toBe(400);
    expect(both.body.scimType).toBe("invalidValue");
    const zero = await bridge.scim("GET", "/Users?cursor=&count=0");
    expect(zero.status).toBe(400);
    expect(zero.body.scimType).toBe("invalidCount");
  });

  it("keeps startIndex paging exactly as before: startIndex in the answer, no cursors", async () => {
    const p = await page(bridge, "startIndex=11&count=5");
    expect(p.body.startIndex).toBe(11);
    expect(p.ids).toEqual(seeded.slice(10, 15).map((u) => u.id));
    expect(p.nextCursor).toBeUndefined();
    expect(p.previousCursor).toBeUndefined();
  });

  it("pages /Users/.search and root /.search by cursor in the body, Users then Groups", async () => {
    const group = await create(bridge, "Groups", { schemas: [CORE_GROUP], displayName: "Walkers" });
    const search = async (path: string, cursor: string) => {
      const res = await bridge.scim("POST", path, { schemas: [SEARCH_REQUEST], cursor, count: 8 });
      expect(res.status, res.text).toBe(200);
      return res.body;
    };
    for (const path of ["/Users/.search", "/.search"]) {
      const ids: string[] = [];
      let cursor: string | undefined = "";
      while (cursor !== undefined) {
        const body = await search(path, cursor);
        ids.push(...(body.Resources as any[]).map((r) => r.id as string));
        cursor = body.nextCursor;
      }
      expect(ids, path).toEqual(path === "/.search" ? [...seeded.map((u) => u.id), group.id] : seeded.map((u) => u.id));
    }
    const bad = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], cursor: "nope", count: 8 });
    expect(bad.body.scimType).toBe("invalidCursor");
  });
});

describe("cursor walk under concurrent writes", () => {
  const bridge = useBridge();

  /**
   * Seeds 80 users, every fourth one doomed (between stable ones, so deletes land both behind and
   * ahead of the cursor), then walks `query` while each page is followed by four writes in flight
   * together: a create, a rename and an update of stable users, and deletes. Returns what the walk saw.
   */
  async function walkWhileWriting(prefix: string, query: string) {
    const stable: string[] = [];
    const doomed: string[] = [];
    for (let i = 0; i < 80; i++) {
      const u = await create(bridge, "Users", userBody(`${prefix}.${String(i).padStart(2, "0")}@example.com`));
      (i % 4 === 1 ? doomed : stable).push(u.id as string);
    }
    const renamed = new Set<string>();
    let n = 0;
    const churn = async () => {
      const k = n++;
      const target = stable[(k * 7) % stable.length]!;
      renamed.add(target);
      await Promise.all([
        create(bridge, "Users", userBody(`${prefix}.churn.${k}@example.com`)),
        bridge.scim("PATCH", `/Users/${target}`, patch({ op: "replace", path: "userName", value: `${prefix}.renamed.${k}.${target}@example.com` })),
        bridge.scim("PATCH", `/Users/${stable[(k * 13 + 5) % stable.length]!}`, patch({ op: "replace", path: "title", value: `changed ${k}` })),
        ...doomed.splice(0, 3).map((id) => bridge.scim("DELETE", `/Users/${id}`)),
      ]);
    };
    const seen = idsOf(await walk(bridge, query, churn));
    expect(n).toBeGreaterThan(5);
    return { seen, stable, renamed };
  }

  it("in the default order, never repeats or skips a user that exists for the whole walk, renamed or not", async () => {
    const { seen, stable } = await walkWhileWriting("default", `filter=${encodeURIComponent('userName sw "default."')}&count=9`);
    expect(new Set(seen).size, "no user is repeated").toBe(seen.length);
    expect(stable.filter((id) => !seen.includes(id)), "no user that existed throughout is skipped").toEqual([]);
  });

  it("with sortBy=userName, returns exactly once every user whose userName does not change during the walk", async () => {
    const { seen, stable, renamed } = await walkWhileWriting("sorted", "sortBy=userName&count=9");
    const kept = stable.filter((id) => !renamed.has(id));
    expect(kept.filter((id) => seen.filter((s) => s === id).length !== 1), "seen other than once").toEqual([]);
  });
});

describe("cursor expiry (cursorTimeout)", () => {
  let now = new Date("2026-01-01T00:00:00Z");
  const clock: Clock = { now: () => now };
  let bridge: TestBridge;
  beforeAll(async () => {
    bridge = await startBridge({}, { clock });
    for (let i = 0; i < 3; i++) await create(bridge, "Users", userBody(`expiry.${i}@example.com`));
  });
  afterAll(() => bridge.close());

  it("honours a cursor for cursorTimeout seconds and refuses it after with expiredCursor", async () => {
    const config = await bridge.scim("GET", "/ServiceProviderConfig");
    const timeout = config.body.pagination.cursorTimeout as number;
    expect(config.body.pagination).toEqual({ cursor: true, index: true, defaultPaginationMethod: "index", defaultPageSize: 100, maxPageSize: 1000, cursorTimeout: timeout });
    const first = await page(bridge, "count=1&cursor=");
    now = new Date(now.getTime() + (timeout - 1) * 1000);
    const second = await page(bridge, `count=1&cursor=${first.nextCursor!}`);
    expect(second.ids).toHaveLength(1);
    now = new Date(now.getTime() + (timeout + 1) * 1000);
    const late = await bridge.scim("GET", `/Users?count=1&cursor=${second.nextCursor!}`);
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ schemas: [ERROR], scimType: "expiredCursor" });
  });
});

describe("cursor pages under the response byte budget", () => {
  const bridge = useBridge({ SCIM_BRIDGE_MAX_RESPONSE_BYTES: "2048" });
  it("serves fewer resources than asked and the next cursor resumes after the last one served", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await create(bridge, "Users", userBody(`big.${i}@example.com`, { title: "x".repeat(600) }))).id);
    const pages = await walk(bridge, "count=10");
    expect(pages[0]!.ids.length).toBeLessThan(10);
    expect(pages[0]!.nextCursor).toBeDefined();
    expect(idsOf(pages)).toEqual(ids);
  });

  it("walks root /.search and /Groups under the budget: every resource once, Users then Groups", async () => {
    const users = idsOf(await walk(bridge, "count=10"));
    const groups: string[] = [];
    for (let i = 0; i < 5; i++) groups.push((await create(bridge, "Groups", { schemas: [CORE_GROUP], displayName: `Big ${i} ${"y".repeat(600)}` })).id);
    const seen: string[] = [];
    let sizes = 0;
    let cursor: string | undefined = "";
    while (cursor !== undefined) {
      const res = await bridge.scim("POST", "/.search", { schemas: [SEARCH_REQUEST], cursor, count: 10 });
      expect(res.status, res.text).toBe(200);
      seen.push(...(res.body.Resources as any[]).map((r) => r.id as string));
      sizes = Math.max(sizes, res.body.itemsPerPage as number);
      cursor = res.body.nextCursor;
    }
    expect(sizes).toBeLessThan(10);
    expect(seen).toEqual([...users, ...groups]);
    const groupWalk: string[] = [];
    cursor = "";
    while (cursor !== undefined) {
      const res = await bridge.scim("GET", `/Groups?count=3&cursor=${cursor}`);
      groupWalk.push(...(res.body.Resources as any[]).map((r) => r.id as string));
      cursor = res.body.nextCursor;
    }
    expect(groupWalk).toEqual(groups);
  });
});

describe("keyset SQL", () => {
  it("is served by an index for the default order and for sortBy userName, with no OFFSET and no sort step", () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-cursor-")), "plan.db"));
    try {
      for (const params of [{}, { sortBy: "userName" }, { sortBy: "userName", sortOrder: "descending" }]) {
        const q = parseListQuery(userResource, { ...params, cursor: "" });
        const walk = { before: false, at: { pk: 10, key: "k" } };
        const beyond = keysetClause(q, walk);
        const sql = `SELECT u.pk FROM users u WHERE (${q.where}) AND ${beyond.sql} ORDER BY ${orderClause(q, false)} LIMIT 101`;
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...q.params, ...beyond.params) as { detail: string }[]).map((r) => r.detail).join(" | ");
        expect(sql).not.toMatch(/OFFSET/);
        expect(plan, JSON.stringify(params)).not.toMatch(/TEMP B-TREE/);
        expect(plan).toMatch(/SEARCH u USING (INTEGER PRIMARY KEY|(COVERING )?INDEX)/);
      }
    } finally {
      db.close();
    }
  });
});

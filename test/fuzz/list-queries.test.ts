/**
 * Fuzzing list and search requests (RFC 7644 §3.4.2, §3.4.3): random valid filters and broken ones
 * (unbalanced quotes and brackets, unknown operators, nested past the limit, longer than the limit),
 * with random sortBy, sortOrder, startIndex, count, attributes and excludedAttributes, sent as a
 * query string and as a SearchRequest to /Users, /Groups and the root. Every answer is a SCIM
 * ListResponse or a SCIM 400; a valid query is never refused, and GET and POST .search agree.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHarness, FUZZ_SEED, fuzzRuns, fuzzTimeout } from "../support/fuzz-harness.js";
import { filterCase, listParams, type Generated, type ListParamsCase } from "../support/fuzz-filters.js";
import { anyJson } from "../support/fuzz-values.js";
import { CORE_GROUP, SEARCH_REQUEST, useBridge, userBody } from "../support/scim.js";

const RUNS = fuzzRuns(500);
/** Past this a GET's request line nears node's 16 KB header limit (answered 431 before any route runs). */
const MAX_QUERY_CHARS = 8000;
const LIST_ERRORS = new Set(["invalidFilter", "invalidValue", "invalidSyntax"]);

const kinds = ["Users", "Groups"] as const;
const listCase = fc.constantFrom(...kinds).chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    root: fc.boolean().map((b) => b && kind === "Users"),
    filter: fc.option(filterCase(kind), { nil: undefined, freq: 5 }),
    params: listParams(kind),
    post: fc.boolean(),
    /** One SearchRequest member replaced by any JSON value. */
    bodyHack: fc.oneof(
      { weight: 5, arbitrary: fc.constant(undefined) },
      fc.tuple(fc.constantFrom("filter", "count", "startIndex", "attributes", "sortBy", "schemas", "Filter", "unknown"), anyJson),
    ),
    crossCheck: fc.boolean(),
  }),
);

function entries(filter: Generated | undefined, params: ListParamsCase): [string, Generated][] {
  const all: [string, Generated | undefined][] = [["filter", filter], ...Object.entries(params)];
  return all.filter((e): e is [string, Generated] => e[1] !== undefined);
}

const queryOf = (list: [string, Generated][]): string => new URLSearchParams(list.map(([k, g]): [string, string] => [k, g.text])).toString();

function searchBody(list: [string, Generated][]): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [SEARCH_REQUEST] };
  for (const [k, g] of list) {
    // Numbers as JSON numbers where they are integers, as IdPs send them; anything else as text.
    body[k] = (k === "count" || k === "startIndex") && /^-?\d+$/.test(g.text) ? Number(g.text) : g.text;
  }
  return body;
}

const idsOf = (body: any): string[] => (body.Resources as { id: string }[]).map((r) => r.id);

describe("fuzzing list and search queries", () => {
  const bridge = useBridge();
  let harness: FuzzHarness;

  beforeAll(async () => {
    await FuzzHarness.quiesce(bridge);
    harness = new FuzzHarness(bridge);
    const ids: string[] = [];
    for (const [i, name] of ["fuzz.0@example.com", "Ärger@Example.com", "zoë@example.com", "\u0000nul@example.com", "😀@example.com"].entries()) {
      const emails = [{ value: name, type: i % 2 === 0 ? "work" : "home", primary: true }];
      const res = await harness.send({ method: "POST", path: "/Users", body: userBody(name, { emails, displayName: `User ${i}`, active: i % 2 === 0 }) });
      ids.push(res.body.id);
    }
    await harness.send({ method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], displayName: "Fuzzers", members: ids.slice(0, 3).map((value) => ({ value })) } });
    await harness.send({ method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], displayName: "Empty" } });
  });
  afterAll(() => harness.close());

  it(`answers every list query with a ListResponse or a SCIM 400 (${RUNS} runs)`, async () => {
    let validSent = 0;
    let agreed = 0;
    await fc.assert(
      fc.asyncProperty(listCase, async (c) => {
        const list = entries(c.filter, c.params);
        const base = c.root ? "" : `/${c.kind}`;
        const query = queryOf(list);
        const usePost = c.root || c.post || c.bodyHack !== undefined || query.length > MAX_QUERY_CHARS;
        const body = searchBody(list);
        if (c.bodyHack) body[c.bodyHack[0]] = c.bodyHack[1];
        const res = usePost
          ? await harness.send({ method: "POST", path: `${base}/.search`, body })
          : await harness.send({ method: "GET", path: `${base}?${query}` });
        if (res.status === 400) expect(LIST_ERRORS, res.text).toContain(res.body.scimType);
        else expect(res.status, res.text).toBe(200);

        if (c.bodyHack !== undefined || !list.every(([, g]) => g.valid)) return;
        validSent++;
        expect(res.status, `a valid query was refused: ${res.text}`).toBe(200);
        const count = c.params.count === undefined ? 100 : Math.min(1000, Math.max(0, Number(c.params.count.text)));
        expect(res.body.Resources.length).toBeLessThanOrEqual(count);
        if (c.root || !c.crossCheck || query.length > MAX_QUERY_CHARS) return;
        // The same query the other way round selects the same page.
        const other = usePost
          ? await harness.send({ method: "GET", path: `${base}?${query}` })
          : await harness.send({ method: "POST", path: `${base}/.search`, body });
        expect(other.body.totalResults).toBe(res.body.totalResults);
        expect(idsOf(other.body)).toEqual(idsOf(res.body));
        agreed++;
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
    console.info(`${expect.getState().currentTestName}: ${harness.summary()}`);
    expect(validSent).toBeGreaterThan(RUNS / 8);
    expect(agreed).toBeGreaterThan(RUNS / 20);
    expect(harness.count((s) => s === 400)).toBeGreaterThan(RUNS / 10);
    harness.expectSound();
  }, fuzzTimeout(RUNS));
});

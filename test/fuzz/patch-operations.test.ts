/**
 * Fuzzing PATCH (RFC 7644 §3.5.2) on Users and Groups in Okta's and both of Entra's dialects, plus
 * random operations, invalid paths, value filters, removal without a path, member lists of up to
 * 2,000 ids, broken PatchOp envelopes, and If-Match headers current, stale and garbage. PATCH is
 * atomic: a refused one leaves every table byte-identical; an accepted one is one audit event and
 * one version, and what it says it did is what a GET shows afterwards.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHarness, FUZZ_SEED, fuzzRuns, fuzzTimeout } from "../support/fuzz-harness.js";
import { envelope, groupOp, userOp, type MemberRef, type Resolve } from "../support/fuzz-patch.js";
import { CORE_GROUP, useBridge, userBody } from "../support/scim.js";

const RUNS = fuzzRuns(500);
const SEEDED_USERS = 40;
const PATCH_STATUSES = new Set([200, 204, 400, 404, 409, 412]);

const patchCase = fc.constantFrom<"Users" | "Groups">("Users", "Groups").chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    pick: fc.nat(),
    missing: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, fc.constant(true)),
    ops: fc.array(kind === "Users" ? userOp : groupOp, { minLength: 1, maxLength: 4 }),
    envelope,
    ifMatch: fc.constantFrom<"none" | "current" | "stale" | "star" | "garbage" | "list">("none", "none", "none", "current", "stale", "star", "garbage", "list"),
    projection: fc.constantFrom("", "", "", "?attributes=displayName", "?excludedAttributes=members", "?attributes=shoeSize"),
  }),
);

describe("fuzzing PATCH operations", () => {
  const bridge = useBridge();
  let harness: FuzzHarness;

  beforeAll(async () => {
    await FuzzHarness.quiesce(bridge);
    harness = new FuzzHarness(bridge);
    for (let i = 0; i < SEEDED_USERS; i++) {
      const emails = [{ value: `user${i}@example.com`, type: i % 3 === 0 ? "work" : "home", primary: i % 2 === 0 }];
      await harness.send({ method: "POST", path: "/Users", body: userBody(`user${i}@example.com`, { emails, displayName: `User ${i}` }) });
    }
    for (const name of ["Admins", "Agents", "Everyone"]) {
      const members = harness.probe.ids("Users").slice(0, 10).map((value) => ({ value }));
      await harness.send({ method: "POST", path: "/Groups", body: { schemas: [CORE_GROUP], displayName: name, members } });
    }
  });
  afterAll(() => harness.close());

  async function memberIds(groupId: string): Promise<string[]> {
    const res = await harness.send({ method: "GET", path: `/Groups/${groupId}` });
    return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value);
  }

  it(`answers every PATCH atomically with a SCIM answer (${RUNS} runs)`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(patchCase, async (c) => {
        const id = c.missing ? randomUUID() : harness.existing(c.kind, c.pick)!;
        const unknownIds = new Map<MemberRef, string>();
        const resolve: Resolve = (ref) => {
          if ("pick" in ref) return harness.existing("Users", ref.pick)!;
          if ("raw" in ref) return ref.raw;
          if (!unknownIds.has(ref)) unknownIds.set(ref, randomUUID());
          return unknownIds.get(ref)!;
        };
        const ops = c.ops.map((op) => op(resolve));
        const version = harness.probe.versionOf(c.kind, id) ?? 1;
        const ifMatch = { none: undefined, current: `W/"${version}"`, stale: `W/"${version + 7}"`, star: "*", garbage: "not-an-etag", list: `"x", W/"${version}"` }[c.ifMatch];
        const res = await harness.send({
          method: "PATCH",
          path: `/${c.kind}/${id}${c.projection}`,
          body: c.envelope(ops),
          ...(ifMatch === undefined ? {} : { headers: { "If-Match": ifMatch } }),
        });
        expect(PATCH_STATUSES, res.text).toContain(res.status);
        if (c.missing && res.status < 300) throw new Error(`PATCH of a missing resource answered ${res.status}`);
        if (res.status >= 300) return;
        accepted++;
        if (c.kind === "Users" && c.projection === "") {
          expect((await harness.send({ method: "GET", path: `/Users/${id}` })).body).toEqual(res.body);
        }
        // A single member operation did what it said.
        const [op] = ops as { op?: unknown; path?: unknown; value?: unknown }[];
        if (c.kind !== "Groups" || ops.length !== 1 || typeof op?.op !== "string") return;
        const verb = op.op.toLowerCase();
        const listed = Array.isArray(op.value) ? (op.value as { value: string }[]).map((m) => m.value) : [];
        const after = await memberIds(id);
        if (op.path === "members" && verb === "add") for (const m of listed) expect(after).toContain(m);
        if (op.path === "members" && verb === "remove") for (const m of listed) expect(after).not.toContain(m);
        if (op.path === "members" && verb === "remove" && op.value === undefined) expect(after).toEqual([]);
        if (op.path === "members" && verb === "replace") expect([...after].sort()).toEqual([...new Set(listed)].sort());
        const removed = typeof op.path === "string" ? /^members\[value eq ("(?:[^"\\]|\\.)*")\]$/.exec(op.path) : null;
        if (removed && verb === "remove") expect(after).not.toContain(JSON.parse(removed[1]!));
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
    console.info(`${expect.getState().currentTestName}: ${harness.summary()}`);
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(harness.count((s) => s === 400)).toBeGreaterThan(RUNS / 10);
    expect(harness.count((s) => s === 412)).toBeGreaterThan(0);
    harness.expectSound();
  }, fuzzTimeout(RUNS));
});

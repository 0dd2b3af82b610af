/**
 * Fuzzing POST and PUT bodies of Users and Groups: valid resources generated from the schema, the
 * same resources mutated (attributes dropped, duplicated under other casings, retyped, wrapped in
 * arrays, nested 2,000 deep, unknown extensions, broken `schemas`), their JSON text corrupted or
 * truncated, and bytes that are not UTF-8. Every answer must be a well-formed SCIM answer, every
 * refusal must leave the database byte-identical, and every valid resource must be accepted and
 * read back exactly as created.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FuzzHarness, FUZZ_SEED, fuzzRuns, fuzzTimeout, type FuzzRequest } from "../support/fuzz-harness.js";
import { validGroup, validUser } from "../support/fuzz-resources.js";
import { corruptText, invalidUtf8, mutate, mutation, nastyString } from "../support/fuzz-values.js";
import { useBridge } from "../support/scim.js";

const MAX_BODY_BYTES = 256 * 1024;
const RUNS = fuzzRuns(400);

type Target = "create" | "replace" | "delete";

/** What each run sends: a body in one of five forms, to a collection (create) or an existing resource. */
const bodyCase = fc.record({
  kind: fc.constantFrom<"Users" | "Groups">("Users", "Users", "Groups"),
  target: fc.constantFrom<Target>("create", "create", "replace", "replace", "delete"),
  pick: fc.nat(),
  form: fc.constantFrom("valid", "mutated", "mutated", "corrupt", "bytes", "oversized"),
  user: validUser,
  group: validGroup,
  userName: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, nastyString, fc.constantFrom("fuzz.0@example.com", "FUZZ.0@EXAMPLE.COM")),
  members: fc.array(fc.oneof({ weight: 4, arbitrary: fc.nat().map((n) => ({ pick: n })) }, fc.constant({ unknown: true }), nastyString.map((s) => ({ raw: s }))), { maxLength: 6 }),
  bulkMembers: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, fc.integer({ min: 100, max: 1500 })),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  corrupt: corruptText,
  bytes: invalidUtf8,
});

describe("fuzzing resource bodies", () => {
  const bridge = useBridge({ SCIM_BRIDGE_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  let harness: FuzzHarness;
  let serial = 0;

  beforeAll(async () => {
    await FuzzHarness.quiesce(bridge);
    harness = new FuzzHarness(bridge);
    for (let i = 0; i < 3; i++) await harness.send({ method: "POST", path: "/Users", body: { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: `fuzz.${i}@example.com` } });
  });
  afterAll(() => harness.close());

  it(`answers every body with a SCIM answer and a consistent database (${RUNS} runs)`, async () => {
    let validSent = 0;
    await fc.assert(
      fc.asyncProperty(bodyCase, async (c) => {
        const id = harness.existing(c.kind, c.pick);
        const path = c.target === "create" || id === undefined ? `/${c.kind}` : `/${c.kind}/${id}`;
        if (c.target === "delete" && id !== undefined) {
          await harness.send({ method: "DELETE", path });
          return;
        }
        const userName = c.userName ?? `fuzz.${FUZZ_SEED}.${++serial}@example.com`;
        let ghosts = c.bulkMembers !== undefined;
        const real = (pick: number): string => {
          const found = harness.existing("Users", pick);
          ghosts ||= found === undefined;
          return found ?? randomUUID();
        };
        const members = c.members.map((m) => ("pick" in m ? real(m.pick) : "unknown" in m ? randomUUID() : m.raw));
        if (c.bulkMembers !== undefined) for (let i = 0; i < c.bulkMembers; i++) members.push(real(i));
        const doc = c.kind === "Users" ? c.user(userName) : c.group(members);
        const method = path === `/${c.kind}` ? "POST" : "PUT";
        let req: FuzzRequest;
        switch (c.form) {
          case "valid":
            req = { method, path, body: doc };
            break;
          case "mutated":
            req = { method, path, body: mutate(doc, c.mutations) };
            break;
          case "corrupt":
            req = { method, path, body: c.corrupt(JSON.stringify(doc)) };
            break;
          case "bytes":
            req = { method, path, body: c.bytes };
            break;
          case "oversized":
            req = { method, path, body: { ...doc, title: "x".repeat(MAX_BODY_BYTES) } };
            break;
        }
        const res = await harness.send(req);
        if (c.form === "oversized") expect(res.status).toBe(413);
        if (c.form === "bytes") expect(res.status).toBe(400);
        // A valid resource with a fresh userName and real members is accepted, and reads back as created.
        const freshName = c.userName === undefined;
        const realMembers = c.members.every((m) => "pick" in m) && !ghosts;
        if (c.form === "valid" && (c.kind === "Users" ? freshName : realMembers) && (method === "POST" || id !== undefined)) {
          validSent++;
          expect(res.status, res.text).toBe(method === "POST" ? 201 : 200);
          const read = await harness.send({ method: "GET", path: `/${c.kind}/${res.body.id}` });
          expect(read.body).toEqual(res.body);
        }
      }),
      { seed: FUZZ_SEED, numRuns: RUNS },
    );
    console.info(`${expect.getState().currentTestName}: ${harness.summary()}`);
    // The generators must reach every outcome, or the run proves little.
    expect(validSent).toBeGreaterThan(RUNS / 20);
    expect(harness.count((s) => s === 201)).toBeGreaterThan(RUNS / 20);
    expect(harness.count((s) => s === 400)).toBeGreaterThan(RUNS / 10);
    expect(harness.count((s) => s === 413)).toBeGreaterThan(0);
    harness.expectSound();
  }, fuzzTimeout(RUNS));
});

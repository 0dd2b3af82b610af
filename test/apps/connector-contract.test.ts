/**
 * The connector contract (src/domain/connector.ts), one suite run against every connector: repeated
 * create is idempotent; deactivate of a missing account succeeds; reactivate reuses the same
 * account; failures say whether a retry helps; no connector writes to the database. Each subject
 * (test/support/contract-subjects.ts) meets its app for real: HaloPSA and Huntress through their
 * simulators over loopback HTTP, the manual connector through the task queue. A property that
 * cannot apply to a subject is skipped with its reason in the test name, never silently.
 *
 * The actions come from the planner and the outcomes are recorded as the worker records them
 * (test/support/contract-worker.ts), on a real bridge database whose every use is watched.
 */
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConnectorError } from "../../src/domain/connector-error.js";
import { capabilitiesOf, type ApplicableAction, type ApplyResult } from "../../src/domain/connector.js";
import { haloPsaSubject, huntressApiSubject, manualSubject, type ContractSubject, type FaultHooks } from "../support/contract-subjects.js";

/** Properties a subject may be excused from, each with the reason shown in the skipped test's name. */
type Excusable = "deletedOutside" | "failures";

const SUBJECTS: readonly { name: string; start: () => Promise<ContractSubject>; excused: Partial<Record<Excusable, string>> }[] = [
  { name: "HaloPsaConnector", start: haloPsaSubject, excused: {} },
  { name: "HuntressApiConnector", start: huntressApiSubject, excused: {} },
  {
    name: "ManualConnector",
    start: manualSubject,
    excused: {
      deletedOutside: "a portal without an API cannot be looked at; the disable task is how a person finds the account gone",
      failures: "it makes no remote call, so nothing can fail, be refused or time out",
    },
  },
];

/** What the app answers a create with, and what that says about retrying. */
const FAILURES: readonly { what: string; inject: (f: FaultHooks) => void; retryHelps: boolean; effectUnknown?: boolean }[] = [
  { what: "a 503", inject: (f) => f.fail(503), retryHelps: true },
  // Neither HaloPSA ("Rate Limit Reached", plain text) nor the Huntress API reference ("Rate
  // Limits") documents a Retry-After header, so the error carries no retryAfterMs of its own.
  { what: "a 429 without Retry-After", inject: (f) => f.rateLimit(), retryHelps: true },
  { what: "a 400 validation error", inject: (f) => f.fail(400), retryHelps: false },
  { what: "a 403 permission error", inject: (f) => f.fail(403), retryHelps: false },
  { what: "a timeout on the create", inject: (f) => f.hang(), retryHelps: true, effectUnknown: true },
];

let people = 0;
/** A person nobody has seen yet (simulators and the database live for the whole subject). */
const newPerson = (): { userId: string; email: string } => {
  people++;
  return { userId: `u-contract-${people}`, email: `contract.${people}@example.com` };
};

/** Objects reachable from `root` through its properties, arrays, maps and sets. */
function reachable(root: unknown): unknown[] {
  const seen = new Set<unknown>();
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    const values = v instanceof Map || v instanceof Set ? [...v.values(), ...(v instanceof Map ? v.keys() : [])] : Object.values(v);
    stack.push(...values);
  }
  return [...seen];
}

describe.each(SUBJECTS)("connector contract: $name", ({ start, excused }) => {
  let s: ContractSubject;
  /** `it`, or a skip whose name says why the property does not apply. */
  const unless =
    (property: Excusable) =>
    (title: string, fn: () => Promise<void>): void => {
      const reason = excused[property];
      if (reason === undefined) it(title, fn);
      else it.skip(`${title} (not applicable: ${reason})`, fn);
    };
  beforeAll(async () => {
    s = await start();
  });
  afterEach(() => {
    s.faults?.reset();
  });
  afterAll(async () => {
    await s?.close();
  });

  const action = (a: ReturnType<ContractSubject["worker"]["plan"]>): ApplicableAction => {
    if (!a || a.kind === "discard") throw new Error(`the planner asked for ${a?.kind ?? "nothing"}`);
    return a;
  };
  const grant = (userId: string, email: string) => action(s.worker.plan(userId, s.wanted(email)));
  const withdraw = (userId: string) => action(s.worker.plan(userId, undefined));
  const expectAbsent = (r: ApplyResult): void => {
    expect(r.state).toBe("removed");
    expect(r.task?.kind, "a person is asked to remove what is not there").not.toBe("raise");
    expect(s.saysAbsent(r), `the outcome says the account was missing: ${JSON.stringify(r.events ?? r.task)}`).toBe(true);
  };

  describe("repeated create is idempotent", () => {
    it("makes one account when the same create runs again with the state recorded after the first", async () => {
      const { userId, email } = newPerson();
      const create = grant(userId, email);
      const first = await s.worker.run(create);
      const again = await s.worker.run(create);
      expect(s.accountsOf(userId, email)).toBe(1);
      expect(again.externalId).toBe(first.externalId);
    });

    it("makes one account when the create runs again with no recorded state (a crash between the app call and the record)", async () => {
      const { userId, email } = newPerson();
      const create = grant(userId, email);
      const first = await s.worker.run(create, { record: false });
      const again = await s.worker.run(create, { known: "none" });
      expect(s.accountsOf(userId, email)).toBe(1);
      expect(again.externalId).toBe(first.externalId);
    });
  });

  describe("deactivate of a missing account succeeds, saying so", () => {
    it("when the app never had the account", async () => {
      const { userId, email } = newPerson();
      s.worker.seed(s.neverCreated(userId, email));
      expectAbsent(await s.worker.run(withdraw(userId)));
      expect(s.accountsOf(userId, email)).toBe(0);
    });

    unless("deletedOutside")("when the account was deleted in the app behind the bridge's back", async () => {
      const { userId, email } = newPerson();
      await s.worker.run(grant(userId, email));
      await s.settle(userId, email);
      s.deleteOutside!(userId);
      expectAbsent(await s.worker.run(withdraw(userId)));
    });
  });

  it("reactivate after deactivate reuses the same account, never a second one", async () => {
    const { userId, email } = newPerson();
    await s.worker.run(grant(userId, email));
    await s.settle(userId, email);
    const before = s.identityOf(userId, email);
    expect(before).toBeTruthy();
    await s.worker.run(withdraw(userId));
    await s.settle(userId, email);
    await s.worker.run(grant(userId, email));
    await s.settle(userId, email);
    expect(s.identityOf(userId, email)).toEqual(before);
    expect(s.accountsOf(userId, email)).toBe(1);
    expect(s.worker.row(userId)).toMatchObject({ state: "active" });
  });

  describe("failures say whether a retry helps", () => {
    for (const { what, inject, retryHelps, effectUnknown } of FAILURES) unless("failures")(what, async () => {
      const f = s.faults!;
      const { userId, email } = newPerson();
      const create = grant(userId, email);
      inject(f);
      if (f.reports === "throws") {
        const e = await s.worker.run(create).then(() => undefined, (x: unknown) => x);
        expect(e).toBeInstanceOf(ConnectorError);
        expect(e).toMatchObject({ retryable: retryHelps, retryAfterMs: null, ...(effectUnknown === undefined ? {} : { effectUnknown }) });
        return;
      }
      // Falls back to the manual task: the client retried exactly when a retry could help.
      const r = await s.worker.run(create);
      expect(r.task).toMatchObject({ kind: "raise", action: "invite", firstStep: expect.stringMatching(/do it by hand/) });
      const fallback = r.events?.find((e) => e.action.endsWith(".fallback"));
      expect(fallback?.detail).toMatchObject({ attempts: retryHelps ? f.maxRetries + 1 : 1, ...(effectUnknown ? { kind: "timeout" } : {}) });
    });
  });

  describe("no connector writes to the database", () => {
    it("holds no database handle", () => {
      expect(reachable(s.connector).filter((o) => o instanceof Database)).toEqual([]);
    });

    it("uses no database in any call it made (the watch sees a use when one happens)", async () => {
      const canary = await s.worker.watch.during(() => Promise.resolve(s.worker.row("nobody")));
      expect(canary.used).not.toEqual([]);
      const { userId, email } = newPerson();
      await s.worker.run(grant(userId, email));
      await s.settle(userId, email);
      if (capabilitiesOf(s.connector).includes("readBack")) expect(await s.worker.readBack()).toBeGreaterThan(0);
      await s.worker.run(withdraw(userId));
      expect(s.worker.watchedCalls).toBeGreaterThan(1);
      expect(s.worker.used).toEqual([]);
    });
  });
});

/**
 * The gate that gathers a batch's connector calls (src/provisioning/apply-batch.ts): one
 * applyMany once every running pass waits on it, each pass answered with its own outcome, a pass
 * held elsewhere never stalls the rest beyond the bounded wait, and a failed batch fails each call.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ApplicableAction, ApplyContext, ApplyResult, BatchItem, BatchOutcome, Connector } from "../../src/domain/connector.js";
import { ApplyBatch, PASSES_PER_TURN } from "../../src/provisioning/apply-batch.js";

const ctx: ApplyContext = { requestId: null, ownerOf: () => undefined, keepersOf: () => [] };
const action = (userId: string): ApplicableAction =>
  ({ kind: "create", userId, app: "halopsa", role: "agent", settings: {}, profile: { userName: userId, email: `${userId}@example.com` } }) as unknown as ApplicableAction;
const resultFor = (userId: string): ApplyResult => ({ externalId: userId, state: "active", role: "agent", profile: null, settings: {} });

/** A batching connector that records each applyMany and answers each item with its user's id. */
function batching(fail?: Error): Connector & { readonly calls: BatchItem[][] } {
  const calls: BatchItem[][] = [];
  return {
    app: "halopsa",
    instance: "halopsa:test",
    calls,
    apply: () => Promise.reject(new Error("the gate must not call apply")),
    applyMany: (items: readonly BatchItem[]): Promise<BatchOutcome[]> => {
      calls.push([...items]);
      if (fail) return Promise.reject(fail);
      return Promise.resolve(items.map((i) => (i.action.userId === "bad" ? { ok: false, error: new Error("refused") } : { ok: true, result: resultFor(i.action.userId) })));
    },
  };
}

afterEach(() => vi.useRealTimers());

describe("ApplyBatch", () => {
  it("sends one applyMany once every running pass waits, and answers each pass with its own outcome", async () => {
    const connector = batching();
    const gate = new ApplyBatch(new Map([["halopsa", connector]]), 3);
    const halo = gate.connectors.get("halopsa")!;
    const a = halo.apply(action("a"), ctx);
    const bad = halo.apply(action("bad"), ctx);
    expect(connector.calls).toHaveLength(0);
    const c = halo.apply(action("c"), ctx);
    expect(await a).toEqual(resultFor("a"));
    expect(await c).toEqual(resultFor("c"));
    await expect(bad).rejects.toThrow("refused");
    expect(connector.calls.map((items) => items.map((i) => i.action.userId))).toEqual([["a", "bad", "c"]]);
  });

  it("sends without a pass that finished without calling the app, and leaves connectors without applyMany alone", async () => {
    const connector = batching();
    const manual: Connector = { app: "manual", instance: "manual", apply: () => Promise.resolve(resultFor("m")) };
    const gate = new ApplyBatch(new Map<string, Connector>([["halopsa", connector], ["manual", manual]]), 2);
    expect(gate.connectors.get("manual")).toBe(manual);
    const a = gate.connectors.get("halopsa")!.apply(action("a"), ctx);
    gate.passDone();
    expect(await a).toEqual(resultFor("a"));
  });

  it("does not let a pass held elsewhere stall the others beyond the bounded wait", async () => {
    vi.useFakeTimers();
    const connector = batching();
    const gate = new ApplyBatch(new Map([["halopsa", connector]]), 2, 1000);
    const a = gate.connectors.get("halopsa")!.apply(action("a"), ctx);
    await vi.advanceTimersByTimeAsync(999);
    expect(connector.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await a).toEqual(resultFor("a"));
  });

  it("fails every gathered call with the error when the whole batch fails", async () => {
    const connector = batching(new Error("HaloPSA is down"));
    const gate = new ApplyBatch(new Map([["halopsa", connector]]), 2);
    const halo = gate.connectors.get("halopsa")!;
    const calls = [halo.apply(action("a"), ctx), halo.apply(action("b"), ctx)];
    for (const call of calls) await expect(call).rejects.toThrow("HaloPSA is down");
  });

  it("settles a large batch a slice at a time, so requests waiting on the event loop are served in between", async () => {
    const connector = batching();
    const n = PASSES_PER_TURN * 4;
    const gate = new ApplyBatch(new Map([["halopsa", connector]]), n);
    const halo = gate.connectors.get("halopsa")!;
    const settled: number[] = [];
    let settledWhenServed: number | undefined;
    const passes = Array.from({ length: n }, (_, i) => halo.apply(action(`u${i}`), ctx).then(() => settled.push(i)));
    // A request that arrived while the batch was out: it runs at the next turn of the event loop.
    setImmediate(() => (settledWhenServed = settled.length));
    await Promise.all(passes);
    expect(settled).toHaveLength(n);
    expect(settledWhenServed).toBeDefined();
    expect(settledWhenServed!).toBeLessThanOrEqual(PASSES_PER_TURN);
  });
});

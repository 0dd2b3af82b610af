/**
 * The two pieces the SCIM API runs on without express: `chain` (handlers one after another, errors
 * to one error handler) and `requestTarget` (a request target's path and query, read as sent).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { chain, requestTarget, type ErrorHandler, type Handler } from "../../src/http/handler.js";

const req = {} as IncomingMessage;
const res = {} as ServerResponse;

/** Runs a chain and says how it ended: the handlers reached, what the error handler saw, what `done` got. */
async function run(handlers: Handler[], onError: ErrorHandler = (err) => seen.push(`error:${String(err)}`)): Promise<{ seen: string[]; done: unknown[] }> {
  seen = [];
  const done: unknown[] = [];
  chain(handlers, onError)(req, res, (err) => done.push(err ?? "done"));
  await new Promise((resolve) => setImmediate(resolve));
  return { seen, done };
}
let seen: string[] = [];
const step =
  (name: string): Handler =>
  (_q, _s, next) => {
    seen.push(name);
    next();
  };

describe("chain", () => {
  it("runs the handlers in order and calls done after the last", async () => {
    expect(await run([step("a"), step("b")])).toEqual({ seen: ["a", "b"], done: ["done"] });
  });

  it("stops where a handler answers without calling next", async () => {
    expect(await run([step("a"), () => seen.push("answered"), step("never")])).toEqual({ seen: ["a", "answered"], done: [] });
  });

  it("sends an error passed to next, a thrown one and a rejected promise to the error handler, and runs nothing after", async () => {
    expect(await run([(_q, _s, next) => next("passed"), step("never")])).toEqual({ seen: ["error:passed"], done: [] });
    expect(await run([() => { throw "thrown"; }, step("never")])).toEqual({ seen: ["error:thrown"], done: [] });
    const rejecting = (() => Promise.reject(new Error("rejected"))) as unknown as Handler;
    expect(await run([rejecting, step("never")])).toEqual({ seen: ["error:Error: rejected"], done: [] });
  });

  it("hands done the error when the error handler itself throws", async () => {
    const { done } = await run([() => { throw "first"; }], () => { throw "second"; });
    expect(done).toEqual(["second"]);
  });
});

describe("requestTarget", () => {
  it("splits an origin-form target into path and query, as sent", () => {
    expect(requestTarget("/scim/v2/Users?filter=a%20b&count=1")).toEqual({ path: "/scim/v2/Users", query: "filter=a%20b&count=1" });
    expect(requestTarget("/scim/v2/../x/%2e%2e")).toEqual({ path: "/scim/v2/../x/%2e%2e", query: "" });
  });

  it("reads an absolute-form target by its path, without resolving it", () => {
    expect(requestTarget("http://h:8080/scim/v2/x/../Users?count=1")).toEqual({ path: "/scim/v2/x/../Users", query: "count=1" });
    expect(requestTarget("https://h?count=1")).toEqual({ path: "/", query: "count=1" });
  });

  it("drops a fragment, and has no path for a target that names none", () => {
    expect(requestTarget("/scim/v2/Users?count=1#frag")).toEqual({ path: "/scim/v2/Users", query: "count=1" });
    expect(requestTarget("/scim/v2/Users#frag?count=1")).toEqual({ path: "/scim/v2/Users", query: "" });
    expect(requestTarget("*")).toBeUndefined();
    expect(requestTarget("mailto:a@b")).toBeUndefined();
  });
});

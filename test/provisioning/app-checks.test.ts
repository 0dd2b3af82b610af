import { describe, expect, it } from "vitest";
import { ConnectorError } from "../../src/domain/connector-error.js";
import { AppChecks } from "../../src/provisioning/app-checks.js";
import { capturingLogger } from "../support/io.js";

const clock = { now: () => new Date("2026-12-07T10:00:00Z") };

describe("app checks", () => {
  it("keeps the latest result per app with an API, skips apps without one, and bounds a hung check", async () => {
    const { log, lines } = capturingLogger("info");
    const refused = new ConnectorError({ app: "HaloPSA", kind: "network", request: "POST /auth/token", detail: "cannot reach 127.0.0.1:9: connection refused", retryable: true });
    const connectors = new Map<string, { check?: () => Promise<void> }>([
      ["halopsa", { check: () => Promise.reject(refused) }],
      ["huntress", { check: () => Promise.resolve() }],
      ["portal", {}],
      ["hung", { check: () => new Promise<void>(() => undefined) }],
    ]);
    const checks = new AppChecks({ connectors, clock, log, timeoutMs: 50 });
    expect(checks.apps()).toEqual(["halopsa", "huntress", "hung"]);
    expect(checks.latest().size).toBe(0);
    await checks.runOnce();
    const latest = checks.latest();
    expect(latest.get("halopsa")).toEqual({ ok: false, checkedAt: clock.now(), error: "HaloPSA POST /auth/token failed (network): cannot reach 127.0.0.1:9: connection refused" });
    expect(latest.get("huntress")).toEqual({ ok: true, checkedAt: clock.now() });
    expect(latest.get("hung")).toMatchObject({ ok: false, error: "timed out after 0.05 s" });
    expect(latest.has("portal")).toBe(false);
    // A failure that does not change is logged once, not on every pass.
    await checks.runOnce();
    expect(lines.filter((l) => l.includes("app check failed") && l.includes('"app":"halopsa"'))).toHaveLength(1);
    await checks.stop();
  });
});

describe("app checks as people see them", () => {
  it("say why an app is not checked, remember the last failure after recovery, and check again when a result is older than asked", async () => {
    const { log } = capturingLogger("error");
    let now = new Date("2026-12-07T10:00:00Z");
    let failing = true;
    let calls = 0;
    const connectors = new Map<string, { check?: () => Promise<void> }>([
      ["halopsa", { check: () => (calls++, failing ? Promise.reject(new Error("cannot reach halo.example.com:443: name not found")) : Promise.resolve()) }],
      ["portal", {}],
    ]);
    const checks = new AppChecks({ connectors, clock: { now: () => now }, log, timeoutMs: 50 });
    expect(checks.view("portal")).toMatchObject({ state: "not-checked", message: expect.stringContaining("no API to call") });
    expect(checks.view("halopsa")).toMatchObject({ state: "not-checked", message: "not checked yet" });

    await checks.refresh(60_000);
    expect(checks.view("halopsa")).toEqual({ state: "failed", checkedAt: "2026-12-07T10:00:00.000Z", message: "cannot reach halo.example.com:443: name not found", lastError: { at: "2026-12-07T10:00:00.000Z", message: "cannot reach halo.example.com:443: name not found" } });
    // Fresh enough: no second call.
    await checks.refresh(60_000);
    expect(calls).toBe(1);

    failing = false;
    now = new Date("2026-12-07T10:02:00Z");
    await checks.refresh(60_000);
    expect(calls).toBe(2);
    expect(checks.view("halopsa")).toEqual({ state: "ok", checkedAt: "2026-12-07T10:02:00.000Z", message: null, lastError: { at: "2026-12-07T10:00:00.000Z", message: "cannot reach halo.example.com:443: name not found" } });
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { startBridge, type TestBridge } from "../support/bridge.js";

describe("health and readiness", () => {
  let bridge: TestBridge | undefined;
  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
  });

  it("answers /healthz and /readyz without a token, and says what is not ready", async () => {
    bridge = await startBridge();
    const health = await fetch(`${bridge.running.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${bridge.running.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: true, migrations: true, worker: true } });

    await bridge.running.worker.stop();
    const stopped = await fetch(`${bridge.running.url}/readyz`);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toEqual({ status: "not ready", checks: { database: true, migrations: true, worker: false } });
  });
});

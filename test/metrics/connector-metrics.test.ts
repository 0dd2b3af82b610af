/**
 * Calls to an app's API as /metrics counts them: the real HaloPSA client against the simulator on
 * loopback, faults injected there, and the bridge's metrics registry read back in the Prometheus
 * text format. Every attempt is counted once, by how it ended.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { HaloPsaClient, type HaloPsaClientOptions } from "../../src/apps/halopsa/client.js";
import { startHaloPsaSimulator, type HaloPsaSimulator } from "../../src/dev/halopsa-simulator.js";
import { BridgeMetrics } from "../../src/metrics/bridge-metrics.js";
import { capturingLogger } from "../support/io.js";
import { parseExposition, sample, type Sample } from "./exposition.js";

const REQUESTS = "scim_bridge_connector_requests_total";

describe("connector metrics", () => {
  let sim: HaloPsaSimulator;
  const { log } = capturingLogger();

  const client = (metrics: BridgeMetrics, over: Partial<HaloPsaClientOptions> = {}) =>
    new HaloPsaClient({
      baseUrl: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      log,
      observer: metrics,
      rateLimit: null,
      timeoutMs: 2_000,
      maxRetries: 4,
      backoff: { baseMs: 5, maxMs: 20 },
      ...over,
    });

  const read = async (metrics: BridgeMetrics): Promise<Sample[]> => parseExposition(await metrics.registry.metrics());
  const outcomes = (samples: Sample[]) =>
    Object.fromEntries(samples.filter((s) => s.name === REQUESTS && s.labels["app"] === "halopsa").map((s) => [s.labels["outcome"], s.value]));

  beforeAll(async () => {
    sim = await startHaloPsaSimulator({ rateLimit: null });
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(() => {
    sim.faults.reset();
    sim.setRateLimit(null);
  });

  it("counts every attempt by outcome: ok, server_error, rate_limited, client_error, timeout", async () => {
    const metrics = new BridgeMetrics();
    const c = client(metrics);
    // Token request (ok), a 503 then a 429 on /api/Team, each retried, then the answer (ok).
    sim.faults.failNext(1, { status: 503, match: { path: "/api/Team" } });
    sim.faults.rateLimitNext(1, { match: { path: "/api/Team" } });
    await c.listTeams();
    expect(outcomes(await read(metrics))).toEqual({ ok: 2, server_error: 1, rate_limited: 1 });

    // A 400 is not retried; a hang is, and times out first.
    sim.faults.failNext(1, { status: 400, match: { path: "/api/Roles" } });
    await expect(c.listRoles()).rejects.toThrow();
    sim.faults.hangNext(1, { match: { path: "/api/Roles" } });
    await c.listRoles();
    const samples = await read(metrics);
    expect(outcomes(samples)).toEqual({ ok: 3, server_error: 1, rate_limited: 1, client_error: 1, timeout: 1 });
    // Every attempt is also timed; the hang took at least the 2 s timeout.
    expect(sample(samples, "scim_bridge_connector_request_duration_seconds_count", { app: "halopsa" })).toBe(7);
    expect(sample(samples, "scim_bridge_connector_request_duration_seconds_sum", { app: "halopsa" })).toBeGreaterThanOrEqual(2);
  });

  it("counts a refused connection as network", async () => {
    const metrics = new BridgeMetrics();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const c = client(metrics, { baseUrl: "http://127.0.0.1:1", maxRetries: 1 });
    await expect(c.listTeams()).rejects.toThrow();
    expect(outcomes(await read(metrics))).toEqual({ network: 2 });
  });

  it("records each wait for the client-side rate limit and how long it lasted", async () => {
    const metrics = new BridgeMetrics();
    const c = client(metrics, { rateLimit: { requests: 2, windowMs: 300 } });
    // Token request + 3 calls = 4 sends in a window of 2: the last two wait about 300 ms each.
    await Promise.all([c.listTeams(), c.listRoles(), c.listAgents()]);
    const samples = await read(metrics);
    expect(sample(samples, "scim_bridge_connector_rate_limit_wait_seconds_count", { app: "halopsa" })).toBe(c.stats().rateLimitWaits);
    expect(c.stats().rateLimitWaits).toBe(2);
    expect(sample(samples, "scim_bridge_connector_rate_limit_wait_seconds_sum", { app: "halopsa" })).toBeGreaterThanOrEqual(0.25);
    expect(outcomes(samples)).toEqual({ ok: 4 });
  });
});

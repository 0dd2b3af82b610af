/**
 * A reconcile pass queues every user, and a pass for a user with nothing to do ends without any
 * I/O. The worker must still let the process answer HTTP while it drains them: once it went from
 * one such pass straight into the next claim, in one unbroken chain of promises, and a directory
 * of 20,000 users left /healthz unanswered for five seconds (a liveness probe would have
 * restarted the bridge).
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { ADMIN_TOKEN, startBridge } from "../support/bridge.js";
import { CORE_USER } from "../support/scim.js";

const USERS = 2000;

describe("the worker draining a reconcile pass", () => {
  it("keeps answering HTTP while it works through many users with nothing to do", async () => {
    // No app batches here, so the passes run one by one, as they do beside a batch that is out.
    const bridge = await startBridge({}, { configFile: { apps: [{ name: "portal", type: "manual", template: "invite-portal" }], rules: [], provisioning: { reconcileIntervalMinutes: 0 } } });
    onTestFinished(() => bridge.close());
    for (let i = 0; i < USERS; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => bridge.scim("POST", "/Users", { schemas: [CORE_USER], userName: `idle.${i + k}@example.com` })));
    }
    const db = bridge.running.db;
    const queued = (): number => (db.prepare("SELECT count(*) FROM jobs").pluck().get() as number);
    const started = Date.now();
    while (queued() > 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));

    const reconciled = await fetch(`${bridge.running.url}/admin/api/reconcile`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(reconciled.status).toBe(200);
    // The answer above, and this probe, got through while the queue was still being worked.
    const health = await fetch(`${bridge.running.url}/healthz`);
    expect(health.status).toBe(200);
    expect(queued()).toBeGreaterThan(USERS / 10);
  }, 90_000);
});

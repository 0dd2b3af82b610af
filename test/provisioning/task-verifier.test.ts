/**
 * What an app's accounts say about a task's work (judge, pure), case by case: the end-to-end
 * tests (verified-by-read-back.test.ts) cover the flows; these cover each action's reading,
 * above all where a wrong reading would reopen work that was done or trust work that was not.
 */
import { describe, expect, it } from "vitest";
import { appSchema, raisesTasks, type TaskAppConfig } from "../../src/apps/app-types.js";
import type { RemoteAccount } from "../../src/domain/connector.js";
import type { AppAccount } from "../../src/domain/model.js";
import type { Task, TaskAction } from "../../src/domain/task.js";
import { createLogger } from "../../src/log.js";
import { judge, TaskVerifier } from "../../src/provisioning/task-verifier.js";

const parsed = appSchema.parse({ name: "huntress", type: "manual", template: "huntress" });
if (!raisesTasks(parsed)) throw new Error("the huntress template raises tasks");
const app: TaskAppConfig = parsed;
const profile = { userName: "carol@example.com", email: "carol@example.com", givenName: "Carol", familyName: "Chen", displayName: "Carol Chen" };

function taskOf(action: TaskAction, role: string | null): Task {
  const at = "2026-12-07T10:00:00.000Z";
  return {
    id: 1,
    app: "huntress",
    userId: "u1",
    action,
    role,
    title: action,
    steps: ["do it"],
    profile,
    state: "done",
    reason: null,
    assignee: null,
    claimedAt: null,
    dueAt: at,
    requestId: null,
    completedBy: "cli",
    completedAt: at,
    note: null,
    verification: "pending",
    verifiedAt: null,
    verifiedHow: null,
    supersededBy: null,
    createdAt: at,
    updatedAt: at,
  };
}

const member = (o: Partial<RemoteAccount> = {}): RemoteAccount => ({ externalId: "41", email: "Carol@Example.com", name: "Carol Chen", enabled: true, role: "standard", lastLoginAt: null, ...o });
const linked = (externalId: string | null): AppAccount =>
  ({ userId: "u1", app: "huntress", externalId, state: "active", role: "standard", profile, settings: {}, createdByBridge: true, instance: "i", lastSyncAt: null, lastError: null, conflictWith: null, createUnsettledAt: null, releasedAt: null }) as AppAccount;

describe("judge", () => {
  it("cannot tell an invitation nobody accepted from one never sent: unknown, never reopened", () => {
    expect(judge(app, taskOf("invite", "admin"), undefined, [])).toEqual({ kind: "unknown" });
  });

  it("shows an invitation once its membership has the role (email compared by matching key), and contradicts another role", () => {
    expect(judge(app, taskOf("invite", "standard"), undefined, [member()])).toEqual({ kind: "shown", evidence: "Huntress shows carol@example.com as Standard User (account 41)" });
    expect(judge(app, taskOf("invite", "admin"), undefined, [member()])).toEqual({
      kind: "contradicted",
      reason: "Huntress has carol@example.com as Standard User, expected Account Admin",
      shown: { state: "active", role: "standard", externalId: "41" },
    });
  });

  it("names a permissions label the template has no role for as Huntress shows it", () => {
    expect(judge(app, taskOf("changeRole", "admin"), linked("41"), [member({ role: "Read-only" })])).toMatchObject({ kind: "contradicted", reason: "Huntress has carol@example.com as Read-only, expected Account Admin" });
  });

  it("finds the account by the identity map's id before the email (an email changed in the portal)", () => {
    const renamed = member({ email: "carol.chen@example.com", role: "admin" });
    expect(judge(app, taskOf("changeRole", "admin"), linked("41"), [renamed, member({ externalId: "99", role: "standard" })])).toMatchObject({ kind: "shown" });
  });

  it("contradicts a role change or a confirmation when there is no account, and says so", () => {
    expect(judge(app, taskOf("changeRole", "admin"), linked("41"), [])).toEqual({ kind: "contradicted", reason: "Huntress has no account for carol@example.com", shown: { state: "removed", role: null, externalId: null } });
    expect(judge(app, taskOf("confirm", "standard"), linked("carol@example.com"), [])).toMatchObject({ kind: "contradicted", reason: "Huntress has no account for carol@example.com (the invitation is not accepted yet)", shown: { state: "invited" } });
  });

  it("shows a removal once the account is gone or disabled, and contradicts one still there", () => {
    for (const action of ["remove", "delete", "disable"] as const) {
      expect(judge(app, taskOf(action, null), linked(null), [])).toMatchObject({ kind: "shown" });
      expect(judge(app, taskOf(action, null), linked(null), [member({ enabled: false })])).toMatchObject({ kind: "shown" });
      expect(judge(app, taskOf(action, null), linked(null), [member()])).toMatchObject({ kind: "contradicted", shown: { state: "active", externalId: "41" } });
    }
  });

  it("shows an enable only for an enabled account", () => {
    expect(judge(app, taskOf("enable", "standard"), linked("41"), [member()])).toMatchObject({ kind: "shown" });
    expect(judge(app, taskOf("enable", "standard"), linked("41"), [member({ enabled: false })])).toMatchObject({ kind: "contradicted", reason: "Huntress has carol@example.com as Standard User (disabled), expected enabled" });
  });
});

describe("TaskVerifier.verifyUser", () => {
  it("reads the app in the user's job only for tasks done in the last 15 minutes, leaving older ones to the reconcile pass", async () => {
    let reads = 0;
    let now = Date.parse("2026-12-07T10:00:00.000Z");
    const invite = { ...taskOf("invite", "admin"), completedAt: "2026-12-07T09:50:00.000Z" };
    const verifier = new TaskVerifier({
      tasks: { get: () => invite, openFor: () => undefined, list: () => [], pendingVerification: () => [invite] },
      accounts: { get: () => undefined },
      review: { verified: () => invite, reopenByReadBack: () => invite, completeFoundByReadBack: () => invite },
      connectors: new Map([["huntress", { app: "huntress", instance: "i", apply: () => Promise.reject(new Error("not here")), readBack: () => (reads++, Promise.resolve([])) }]]),
      apps: [app],
      clock: { now: () => new Date(now) },
      log: createLogger("error"),
      scrub: (t) => t,
    });
    expect(await verifier.verifyUser("u1", null)).toEqual([]);
    expect(reads).toBe(1);
    now += 6 * 60_000; // done 16 minutes ago
    await verifier.verifyUser("u1", null);
    expect(reads).toBe(1);
  });
});

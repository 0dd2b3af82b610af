/**
 * Which planned actions are destructive (they wait for approval when they could be a mistake), and
 * the webhook notice an admin gets when a change set opens.
 */
import { describe, expect, it } from "vitest";
import type { ChangeSet } from "../../src/db/approvals.js";
import type { Action } from "../../src/domain/model.js";
import { queueApprovalNotice } from "../../src/notify/webhook.js";
import { destructiveKind } from "../../src/provisioning/approvals.js";
import { appSchema } from "../../src/provisioning/config-schema.js";

const apps = [appSchema.parse({ name: "halopsa", type: "halopsa", roles: [{ name: "admin", haloRoles: ["Administrator"] }, { name: "agent", haloRoles: ["Agent"] }] })];
const profile = { userName: "ada@example.com", email: "ada@example.com", givenName: "Ada", familyName: "L", displayName: "Ada L" };
const changeRole = (previousRole: string | null, role: string): Action => ({ kind: "changeRole", app: "halopsa", userId: "u1", externalId: "7", role, previousRole, settings: {}, profile });

describe("destructive actions", () => {
  it("are deactivations (any reason) and role changes to a role of lower precedence", () => {
    for (const reason of ["not-granted", "inactive", "deleted"] as const) {
      expect(destructiveKind({ kind: "deactivate", app: "halopsa", userId: "u1", externalId: "7", reason, profile }, apps)).toBe("deactivate");
    }
    expect(destructiveKind(changeRole("admin", "agent"), apps)).toBe("downgrade");
    expect(destructiveKind(changeRole("agent", "admin"), apps)).toBeUndefined();
    expect(destructiveKind(changeRole(null, "agent"), apps)).toBeUndefined();
    expect(destructiveKind({ kind: "create", app: "halopsa", userId: "u1", role: "agent", settings: {}, profile }, apps)).toBeUndefined();
    expect(destructiveKind({ kind: "discard", app: "halopsa", userId: "u1", reason: "deleted" }, apps)).toBeUndefined();
  });
});

describe("the approval notice", () => {
  it("says what waits and where to decide, naming no person", () => {
    const sent: { kind: string; payload: Record<string, unknown> }[] = [];
    const outbox = { add: (kind: string, payload: Record<string, unknown>) => void sent.push({ kind, payload }) };
    const set: ChangeSet = { id: 4, kind: "deprovision-limit", app: "halopsa", state: "pending", summary: { limit: 10, windowMinutes: 60 }, createdAt: "", decidedAt: null, decidedBy: null, note: null, waiting: 1 };
    queueApprovalNotice(outbox as never, set, "https://bridge.example.com/admin");
    expect(sent).toEqual([
      {
        kind: "approval.needed",
        payload: {
          text: "Approval needed (change set 4): more than 10 deactivations in halopsa within 60 minutes; the rest are held. Nothing destructive runs until an admin decides: https://bridge.example.com/admin/approvals",
          event: "approval.needed",
          changeSet: { id: 4, kind: "deprovision-limit", app: "halopsa" },
        },
      },
    ]);
  });
});

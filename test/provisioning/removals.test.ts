/**
 * How removals are read from the audit log, on hand-written event streams: the verified time of a
 * removal task wins over its "done" time, a removal superseded by another removal keeps its first
 * request, and nearest-rank percentiles pick durations that really happened.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { nearestRank } from "../../src/admin/deprovisioning-report.js";
import type { AuditRow } from "../../src/db/audit.js";
import { openDatabase } from "../../src/db/database.js";
import { EvidenceReader, type EvidenceTask } from "../../src/db/evidence.js";
import { removalHistograms, removals } from "../../src/provisioning/removals.js";

let seq = 0;
const event = (at: string, action: string, requestId: string | null, after: unknown, resource: { type: string; id: string } = { type: "AppAccount", id: "u1/huntress" }): AuditRow => ({
  seq: ++seq,
  at,
  actor: action === "task.done" ? "token:rita" : "worker",
  requestId,
  action,
  resourceType: resource.type,
  resourceId: resource.id,
  after,
});
const task = (id: number, action: string, verifiedAt: string | null = null): EvidenceTask => ({ id, userId: "u1", app: "huntress", action, title: `${action} u1`, state: "open", verifiedAt });

function reader(events: AuditRow[], tasks: EvidenceTask[], requests: Record<string, string>) {
  return {
    removalEvents: () => events,
    tasks: () => new Map(tasks.map((t) => [t.id, t])),
    requestTimes: () => new Map(Object.entries(requests)),
  };
}

describe("removals", () => {
  it("ends a removal task at its read-back verification when it has one, else when it was marked done", () => {
    const events = [
      event("2026-03-02T09:00:00.000Z", "task.raised", "r1", { taskId: 1 }),
      event("2026-03-02T10:00:00.000Z", "task.done", "r1", { state: "removed" }, { type: "Task", id: "1" }),
    ];
    const verified = removals(reader(events, [task(1, "remove", "2026-03-02T10:05:00.000Z")], { r1: "2026-03-02T08:59:00.000Z" }));
    expect(verified).toMatchObject([{ userId: "u1", app: "huntress", requestedAt: "2026-03-02T08:59:00.000Z", goneAt: "2026-03-02T10:05:00.000Z", how: "task-verified", seconds: 3960, goneBy: "token:rita" }]);
    const trusted = removals(reader(events, [task(1, "remove")], { r1: "2026-03-02T08:59:00.000Z" }));
    expect(trusted).toMatchObject([{ goneAt: "2026-03-02T10:00:00.000Z", how: "task", seconds: 3660 }]);
  });

  it("keeps the first request when a disable task is superseded by a delete, and forgets a removal undone by an invitation", () => {
    const superseded = removals(
      reader(
        [
          event("2026-03-02T09:00:00.000Z", "task.raised", "inactive", { taskId: 1 }),
          event("2026-03-03T09:00:00.000Z", "task.raised", "deleted", { taskId: 2 }),
          event("2026-03-03T10:00:00.000Z", "task.done", "deleted", { state: "removed" }, { type: "Task", id: "2" }),
        ],
        [task(1, "disable"), task(2, "delete")],
        { inactive: "2026-03-02T09:00:00.000Z", deleted: "2026-03-03T09:00:00.000Z" },
      ),
    );
    expect(superseded).toMatchObject([{ requestId: "inactive", seconds: 25 * 3600 }]);
    const undone = removals(
      reader(
        [event("2026-03-02T09:00:00.000Z", "task.raised", "out", { taskId: 1 }), event("2026-03-02T09:05:00.000Z", "task.raised", "back", { taskId: 2 })],
        [task(1, "remove"), task(2, "invite")],
        {},
      ),
    );
    expect(undone).toEqual([]);
  });

  it("opens a removal again when its task is reopened after reading the app back, and ends it at the next completion", () => {
    const events = [
      event("2026-03-02T09:00:00.000Z", "task.raised", "r1", { taskId: 1 }),
      event("2026-03-02T10:00:00.000Z", "task.done", "r1", { state: "removed" }, { type: "Task", id: "1" }),
      event("2026-03-02T10:01:00.000Z", "task.reopened-by-read-back", "r1", { verification: "still listed" }, { type: "Task", id: "1" }),
    ];
    const reopened = removals(reader(events, [task(1, "remove")], { r1: "2026-03-02T09:00:00.000Z" }));
    expect(reopened).toMatchObject([{ requestId: "r1", requestedAt: "2026-03-02T09:00:00.000Z", goneAt: null, waitingOn: { kind: "task", taskId: 1 } }]);
    const doneAgain = removals(
      reader([...events, event("2026-03-02T12:00:00.000Z", "task.done", "r1", { state: "removed" }, { type: "Task", id: "1" })], [task(1, "remove")], { r1: "2026-03-02T09:00:00.000Z" }),
    );
    expect(doneAgain).toMatchObject([{ goneAt: "2026-03-02T12:00:00.000Z", seconds: 3 * 3600 }]);
  });

  it("waits on an approval while a removal is held, and starts it at the held request", () => {
    const held = removals(
      reader([event("2026-03-02T09:00:00.000Z", "approval.held", "rules", { changeSet: 3 })], [], { rules: "2026-03-02T08:00:00.000Z" }),
    );
    expect(held).toMatchObject([{ requestedAt: "2026-03-02T08:00:00.000Z", goneAt: null, seconds: null, waitingOn: { kind: "approval" } }]);
  });
});

describe("nearestRank", () => {
  it("is the value at rank ceil(p/100 × n) of the sorted durations, null for none", () => {
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([1, 2, 3, 4], 90)).toBe(4);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 100)).toBe(10);
  });
});

describe("removalHistograms", () => {
  it("reads the audit log at most once per interval, however often the histogram is scraped", () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-removals-")), "bridge.db"));
    const reads = vi.spyOn(EvidenceReader.prototype, "removalEvents");
    try {
      let now = 0;
      const source = removalHistograms(db, [60, 3600], 60_000, () => now);
      for (let i = 0; i < 5; i++) expect(source.byApp().size).toBe(0);
      expect(reads).toHaveBeenCalledTimes(1);
      now = 59_999;
      source.byApp();
      expect(reads).toHaveBeenCalledTimes(1);
      now = 60_000;
      source.byApp();
      expect(reads).toHaveBeenCalledTimes(2);
    } finally {
      reads.mockRestore();
      db.close();
    }
  });
});

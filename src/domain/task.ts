/**
 * A manual task as everyone reads it: the review page, the API, the CLI, notifications, and the
 * connectors that decide whether a new one is needed. Only src/db/tasks.ts writes them.
 */
import type { Profile } from "./model.js";

/** What a task asks a person to do in a portal; each app template words the steps. */
export const TASK_ACTIONS = ["invite", "confirm", "changeRole", "remove", "disable", "enable", "reinvite", "delete"] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export type TaskState = "open" | "blocked" | "done" | "failed" | "cancelled";

/**
 * Whether the app shows a done task's work (docs/manual-tasks.md, "Verified by read-back"):
 * `pending` until the bridge has read an app whose accounts can be read, `verified` once it shows
 * the work, `unverifiable` where the app cannot be read (the reviewer is trusted). Null while not done.
 */
export type TaskVerification = "pending" | "verified" | "unverifiable";

/** How a task was verified: a done task read back, or open work found already done in the app. */
export type VerifiedHow = "read-back" | "found by read-back";

export interface Task {
  readonly id: number;
  readonly app: string;
  readonly userId: string;
  readonly action: string;
  readonly role: string | null;
  readonly title: string;
  readonly steps: readonly string[];
  readonly profile: Profile;
  readonly state: TaskState;
  readonly reason: string | null;
  readonly assignee: string | null;
  readonly claimedAt: string | null;
  readonly dueAt: string;
  readonly requestId: string | null;
  readonly completedBy: string | null;
  readonly completedAt: string | null;
  readonly note: string | null;
  readonly verification: TaskVerification | null;
  readonly verifiedAt: string | null;
  readonly verifiedHow: VerifiedHow | null;
  readonly supersededBy: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A task's state as people read it: a done task says whether the app showed the work
 * ("verified"), is still being checked ("done, checking…"), or cannot be checked ("done (unverified)").
 */
export function stateLabel(t: Pick<Task, "state" | "verification">): string {
  if (t.state !== "done") return t.state;
  switch (t.verification) {
    case "verified":
      return "verified";
    case "pending":
      return "done, checking…";
    case "unverifiable":
      return "done (unverified)";
    case null:
      return "done";
  }
}

/** The rule the task store's lists and counts apply in SQL: an open task past its due time (a blocked one waits on someone else). */
export function isOverdue(t: Pick<Task, "state" | "dueAt">, now: Date): boolean {
  return t.state === "open" && t.dueAt < now.toISOString();
}

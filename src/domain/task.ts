/**
 * A manual task as everyone reads it: the review page, the API, the CLI, notifications, and the
 * connectors that decide whether a new one is needed. Only src/db/tasks.ts writes them.
 */
import type { Profile } from "./model.js";

/** What a task asks a person to do in a portal; each app template words the steps. */
export const TASK_ACTIONS = ["invite", "confirm", "changeRole", "remove", "disable", "enable", "reinvite", "delete"] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export type TaskState = "open" | "blocked" | "done" | "failed" | "cancelled";

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
  readonly supersededBy: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The rule the task store's lists and counts apply in SQL: an open task past its due time (a blocked one waits on someone else). */
export function isOverdue(t: Pick<Task, "state" | "dueAt">, now: Date): boolean {
  return t.state === "open" && t.dueAt < now.toISOString();
}

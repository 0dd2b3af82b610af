/**
 * Serializes, per app, the actions that may take an app's kept role (a template's `keepOneOf`:
 * Huntress's Account Admin) away from someone, from the guard's question to the recorded outcome.
 *
 * The task writer answers the keep-one question inside the transaction that writes a removal
 * task, which is enough when the removal is a task. Huntress API mode sends its DELETE (or PATCH)
 * before anything is written: two users processed at once (worker concurrency > 1) would each
 * see the other as staying, and both memberships would go. Holding this lock across the guard,
 * the call and the record means the second one asks only after the first one's outcome is in the
 * store. The worker is the only process that applies actions (main.ts), so a lock in its memory
 * covers every caller. Such actions are rare; everything else runs at full concurrency.
 */
import { raisesTasks } from "../apps/app-types.js";
import type { Action } from "../domain/model.js";
import type { AppConfig } from "./config-schema.js";

export class KeptRoleLock {
  /** Per app, the promise the next guarded action waits for (never rejects). */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly apps: readonly AppConfig[]) {}

  /** Runs `apply` now, or after the app's earlier guarded actions when `action` may take its kept role away. */
  run<T>(action: Action, apply: () => Promise<T>): Promise<T> {
    if (!this.mayTakeKeptRole(action)) return apply();
    const previous = this.tails.get(action.app) ?? Promise.resolve();
    const mine = previous.then(apply);
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(action.app, tail);
    void tail.then(() => {
      if (this.tails.get(action.app) === tail) this.tails.delete(action.app);
    });
    return mine;
  }

  private mayTakeKeptRole(action: Action): boolean {
    const app = this.apps.find((a) => a.name === action.app);
    const keepRole = app && raisesTasks(app) ? app.template.keepOneOf : undefined;
    if (keepRole === undefined) return false;
    return action.kind === "deactivate" || (action.kind === "changeRole" && action.previousRole === keepRole && action.role !== keepRole);
  }
}

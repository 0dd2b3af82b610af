/**
 * The connector for apps without an API: every planned action becomes a manual task from the
 * app's template (./task-outcome.ts). It calls nothing and writes nothing; the worker records the
 * outcome and writes the task.
 */
import type { ApplicableAction, ApplyContext, ApplyResult, Connector } from "../../domain/connector.js";
import { taskOutcome, type ManualApp } from "./task-outcome.js";

export class ManualConnector implements Connector {
  readonly app: string;
  constructor(
    private readonly config: ManualApp,
    /** A portal reached only by people has no other identity than its name in the config. */
    readonly instance: string,
  ) {
    this.app = config.name;
  }

  apply(action: ApplicableAction, ctx: ApplyContext): Promise<ApplyResult> {
    return Promise.resolve(taskOutcome(this.config, action, ctx));
  }
}

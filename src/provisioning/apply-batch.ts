/**
 * Gathers the actions of a pass over many users into one `applyMany` per app, so a connector that
 * can (HaloPSA) reads its app once and writes in batches instead of spending two calls per user.
 *
 * Each user's pass runs exactly as alone (syncUser: guards, email reservation, one transaction
 * per outcome): only the connector call is swapped for a promise this gate settles. The gate sends
 * what it has gathered once every pass still running is waiting on it, so one batch carries all
 * of them; a pass held elsewhere (the kept-role lock) cannot stall the others beyond `maxWaitMs`.
 */
import type { ApplicableAction, ApplyContext, ApplyResult, BatchItem, Connector } from "../domain/connector.js";

/**
 * Passes of a batch started, and outcomes settled (apply-batch.ts), per turn of the event loop:
 * about 10 to 40 ms of work at a time, so SCIM requests wait for a slice of a batch, never all of it.
 */
export const PASSES_PER_TURN = 25;

/** Resolves after `n` turns of the event loop (setImmediate: pending I/O is served in between). */
export async function turns(n: number): Promise<void> {
  for (let k = 0; k < n; k++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Waiting extends BatchItem {
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (error: unknown) => void;
}

export class ApplyBatch {
  /** The connectors the passes of this batch use: the batching ones wrapped. */
  readonly connectors: ReadonlyMap<string, Connector>;
  private readonly waiting = new Map<Connector, Waiting[]>();
  private waitingCount = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    connectors: ReadonlyMap<string, Connector>,
    /** Passes that will run through this gate; each calls passDone() once. */
    private running: number,
    private readonly maxWaitMs = 1000,
  ) {
    this.connectors = new Map([...connectors].map(([app, c]) => [app, c.applyMany ? this.gathering(c) : c]));
  }

  /** A pass ended (whatever its outcome): the others may now be all that is left waiting. */
  passDone(): void {
    this.running--;
    this.sendIfAllWait();
  }

  private gathering(c: Connector): Connector {
    return {
      app: c.app,
      instance: c.instance,
      apply: (action: ApplicableAction, ctx: ApplyContext) =>
        new Promise<ApplyResult>((resolve, reject) => {
          const list = this.waiting.get(c) ?? [];
          list.push({ action, ctx, resolve, reject });
          this.waiting.set(c, list);
          this.waitingCount++;
          this.timer ??= setTimeout(() => this.send(), this.maxWaitMs);
          this.sendIfAllWait();
        }),
    };
  }

  private sendIfAllWait(): void {
    if (this.waitingCount > 0 && this.waitingCount >= this.running) this.send();
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.waiting];
    this.waiting.clear();
    this.waitingCount = 0;
    for (const [connector, items] of batches) void this.carryOut(connector, items);
  }

  private async carryOut(connector: Connector, items: readonly Waiting[]): Promise<void> {
    try {
      const outcomes = await connector.applyMany!(items.map(({ action, ctx }) => ({ action, ctx })));
      for (const [i, item] of items.entries()) {
        const outcome = outcomes[i];
        if (outcome?.ok) item.resolve(outcome.result);
        else item.reject(outcome ? outcome.error : new Error(`${connector.app}: no outcome for an action of the batch`));
        // Each pass records its outcome in its own transaction as soon as it is settled; a few passes
        // per turn of the event loop let SCIM requests in between, instead of behind all 250 outcomes.
        if ((i + 1) % PASSES_PER_TURN === 0) await turns(1);
      }
    } catch (e: unknown) {
      for (const item of items) item.reject(e);
    }
  }
}

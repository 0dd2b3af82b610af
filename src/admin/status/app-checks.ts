/**
 * A live check of each app instance for the status page: can the bridge reach it with these
 * credentials? One read the connector already knows (readBack: HaloPSA signs in and lists agents),
 * bounded by a timeout and cached, so a page reload never hammers the app and a dead host never
 * holds a page for longer than the timeout.
 */
import type { Clock } from "../../clock.js";
import type { Connector } from "../../domain/connector.js";
import { errorText } from "../../domain/secret-scrubber.js";

export type AppCheckState = "ok" | "failed" | "not-checked";

export interface AppCheck {
  readonly state: AppCheckState;
  /** When this result was taken; null when the app has nothing to call. */
  readonly checkedAt: string | null;
  /** Accounts the read returned, when it succeeded. */
  readonly accounts: number | null;
  /** What went wrong this time, in words (secrets scrubbed); or why the app is not checked. */
  readonly message: string | null;
  /** The last failure seen since the bridge started, even if the app has recovered since. */
  readonly lastError: { readonly at: string; readonly message: string } | null;
}

export interface AppChecksOptions {
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly clock: Clock;
  readonly scrub: (text: string) => string;
  /** A result is reused this long: 60 s keeps a busy status page at one read a minute per app. */
  readonly cacheMs?: number;
  /** A check slower than this counts as failed; the page waits no longer. */
  readonly timeoutMs?: number;
}

interface Cached {
  readonly at: number;
  readonly result: Promise<AppCheck>;
}

export class AppChecks {
  private readonly cache = new Map<string, Cached>();
  private readonly lastErrors = new Map<string, { at: string; message: string }>();
  private readonly cacheMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: AppChecksOptions) {
    this.cacheMs = o.cacheMs ?? 60_000;
    this.timeoutMs = o.timeoutMs ?? 5_000;
  }

  /** The result for `app`, from the cache while it is fresh; concurrent callers share one check. */
  check(app: string): Promise<AppCheck> {
    const now = this.o.clock.now().getTime();
    const cached = this.cache.get(app);
    if (cached && now - cached.at < this.cacheMs) return cached.result;
    const result = this.run(app);
    this.cache.set(app, { at: now, result });
    return result;
  }

  private async run(app: string): Promise<AppCheck> {
    const connector = this.o.connectors.get(app);
    if (!connector?.readBack) {
      return { state: "not-checked", checkedAt: null, accounts: null, message: "no API to call: the bridge raises manual tasks for this app", lastError: null };
    }
    const checkedAt = this.o.clock.now().toISOString();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    });
    try {
      const accounts = await Promise.race([connector.readBack(), timeout]);
      return { state: "ok", checkedAt, accounts: accounts.length, message: null, lastError: this.lastErrors.get(app) ?? null };
    } catch (e: unknown) {
      const message = errorText(e, this.o.scrub);
      this.lastErrors.set(app, { at: checkedAt, message });
      return { state: "failed", checkedAt, accounts: null, message, lastError: { at: checkedAt, message } };
    } finally {
      clearTimeout(timer);
    }
  }
}

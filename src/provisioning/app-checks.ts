/**
 * Whether each app with an API answers with the configured credentials: checked at start and then
 * every few minutes, each check bounded by a short deadline. The banner, a metric and the admin
 * status page read `latest()`; /readyz does not, because a HaloPSA outage must not take the SCIM
 * side out of a load balancer (the worker retries what the outage holds up).
 */
import type { Clock } from "../clock.js";
import type { Connector } from "../domain/connector.js";
import type { Logger } from "../log.js";

export interface AppCheck {
  readonly ok: boolean;
  readonly checkedAt: Date;
  /** What went wrong, in words, without any secret (the connectors' errors are scrubbed). */
  readonly error?: string;
}

/** An app's check as the status page and `GET /admin/api/status` show it. */
export interface AppCheckView {
  readonly state: "ok" | "failed" | "not-checked";
  /** When the result was taken; null when the app has nothing to call or was not checked yet. */
  readonly checkedAt: string | null;
  /** What failed, in words; or why the app is not checked. */
  readonly message: string | null;
  /** The last failure since the bridge started, even if the app has recovered since. */
  readonly lastError: { readonly at: string; readonly message: string } | null;
}

export interface AppChecksOptions {
  /** The connectors by app; those without `check` (manual apps, dry-run) are not checked. */
  readonly connectors: ReadonlyMap<string, Pick<Connector, "check">>;
  readonly clock: Clock;
  readonly log: Logger;
  /** A check still running after this long counts as failed. */
  readonly timeoutMs: number;
}

export class AppChecks {
  private readonly results = new Map<string, AppCheck>();
  private readonly lastErrors = new Map<string, { at: string; message: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: AppChecksOptions) {}

  /** The apps that can be checked, in config order. */
  apps(): string[] {
    return [...this.o.connectors].filter(([, c]) => c.check !== undefined).map(([app]) => app);
  }

  /** The last result per checked app; an app not checked yet is absent. A copy: callers may keep it. */
  latest(): Map<string, AppCheck> {
    return new Map(this.results);
  }

  /**
   * Checks again first when a result is missing or older than `maxAgeMs` (a status page asks for
   * a recent answer; the pass is bounded by the timeout, and concurrent callers share it).
   */
  async refresh(maxAgeMs: number): Promise<void> {
    const now = this.o.clock.now().getTime();
    const stale = this.apps().some((app) => {
      const r = this.results.get(app);
      return r === undefined || now - r.checkedAt.getTime() > maxAgeMs;
    });
    if (stale) await this.runOnce();
  }

  /** One app's result for people: checked or not, when, what failed and the last failure. */
  view(app: string): AppCheckView {
    if (this.o.connectors.get(app)?.check === undefined) {
      return { state: "not-checked", checkedAt: null, message: "no API to call: the bridge raises manual tasks for this app", lastError: null };
    }
    const r = this.results.get(app);
    const lastError = this.lastErrors.get(app) ?? null;
    if (!r) return { state: "not-checked", checkedAt: null, message: "not checked yet", lastError };
    return { state: r.ok ? "ok" : "failed", checkedAt: r.checkedAt.toISOString(), message: r.error ?? null, lastError };
  }

  /** Checks every app once, side by side; one pass at a time. */
  runOnce(): Promise<void> {
    this.running ??= Promise.all(this.apps().map((app) => this.checkOne(app))).then(
      () => {
        this.running = undefined;
      },
      () => {
        this.running = undefined;
      },
    );
    return this.running;
  }

  /** Checks again every `intervalMs` (the first pass is the caller's `runOnce`). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async checkOne(app: string): Promise<void> {
    const connector = this.o.connectors.get(app);
    if (!connector?.check) return;
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`timed out after ${this.o.timeoutMs / 1000} s`)), this.o.timeoutMs);
    });
    let result: AppCheck;
    try {
      const checking = connector.check();
      // A check that loses the race still settles later: its failure is not an unhandled rejection.
      checking.catch(() => undefined);
      await Promise.race([checking, timedOut]);
      result = { ok: true, checkedAt: this.o.clock.now() };
    } catch (e: unknown) {
      result = { ok: false, checkedAt: this.o.clock.now(), error: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(deadline);
    }
    const before = this.results.get(app);
    this.results.set(app, result);
    if (!result.ok) this.lastErrors.set(app, { at: result.checkedAt.toISOString(), message: result.error ?? "failed" });
    // Logged when the state changes (and on the first check), not on every pass.
    if (result.ok && before?.ok !== true) this.o.log.info("app check: reachable with the configured credentials", { app });
    if (!result.ok && (before === undefined || before.ok || before.error !== result.error)) this.o.log.warn("app check failed", { app, error: result.error });
  }
}

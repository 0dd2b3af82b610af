/**
 * Keeps the HaloPSA client's rolling window across restarts. HaloPSA counts every request of the
 * last 5 minutes (docs/vendor-facts.md), whoever sent it: a bridge restarted after spending its share must
 * not spend it again at once. The bookings are saved in bridge_state (one key per app instance)
 * after each send, coalesced to one write per turn of the event loop, and restored at start.
 */
import type { RollingWindowLimiter } from "../apps/http/rate-limiter.js";
import type { BridgeState } from "../db/bridge-state.js";
import type { Logger } from "../log.js";

const keyOf = (instance: string): string => `rate-window:${instance}`;

export function keepRateWindows(windows: ReadonlyMap<string, RollingWindowLimiter>, state: BridgeState, log: Logger): void {
  for (const [instance, window] of windows) {
    const saved = state.get(keyOf(instance));
    if (saved !== undefined) {
      try {
        window.restore((JSON.parse(saved) as unknown[]).filter((t): t is number => typeof t === "number"));
      } catch (e: unknown) {
        log.warn("the saved rate window is unreadable: starting with an empty one", { instance, error: e });
      }
    }
    let pending = false;
    window.subscribe(() => {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        try {
          state.set(keyOf(instance), JSON.stringify(window.bookings()));
        } catch (e: unknown) {
          // The window in memory still holds: only a restart in the next minutes would forget it.
          log.warn("could not save the rate window", { instance, error: e });
        }
      });
    });
  }
}

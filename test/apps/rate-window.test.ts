/**
 * The client-side rolling window across a restart: bookings saved in a real SQLite file
 * (bridge_state) by one limiter are taken back by the next, which then waits for the oldest to
 * leave the window. The clock is a number the test moves; `sleep` records what would be waited.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { RollingWindowLimiter } from "../../src/apps/http/rate-limiter.js";
import { systemClock } from "../../src/clock.js";
import { BridgeState } from "../../src/db/bridge-state.js";
import { openDatabase } from "../../src/db/database.js";
import { createLogger } from "../../src/log.js";
import { keepRateWindows } from "../../src/provisioning/rate-windows.js";

const WINDOW = { requests: 3, windowMs: 60_000 };

function limiterAt(clock: { now: number }, waits: number[]): RollingWindowLimiter {
  return new RollingWindowLimiter(WINDOW, () => clock.now, async (ms) => {
    waits.push(ms);
    clock.now += ms;
  });
}

function stateFile(): BridgeState {
  const dir = mkdtempSync(join(tmpdir(), "scim-bridge-window-"));
  const db = openDatabase(join(dir, "bridge.db"));
  onTestFinished(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new BridgeState(db, systemClock);
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("rolling window across restarts", () => {
  it("makes the next limiter on the same database wait for the window the last one filled", async () => {
    const state = stateFile();
    const clock = { now: 1_000_000 };
    const first = limiterAt(clock, []);
    keepRateWindows(new Map([["halopsa:test", first]]), state, createLogger("error"));
    for (let i = 0; i < 3; i++) {
      await first.acquire();
      clock.now += 1000;
    }
    await nextTurn();

    const waits: number[] = [];
    const second = limiterAt(clock, waits);
    keepRateWindows(new Map([["halopsa:test", second]]), state, createLogger("error"));
    await second.acquire();
    // The first booking (at 1,000,000) leaves the window at 1,060,000; the clock stood at 1,003,000.
    expect(waits).toEqual([57_001]);
  });

  it("drops saved bookings outside the window or in the future, and survives an unreadable saved value", async () => {
    const state = stateFile();
    const clock = { now: 1_000_000 };
    state.set("rate-window:halopsa:test", JSON.stringify([clock.now - 120_000, clock.now + 5000, "x", clock.now - 10]));
    const waits: number[] = [];
    const limiter = limiterAt(clock, waits);
    keepRateWindows(new Map([["halopsa:test", limiter]]), state, createLogger("error"));
    expect(limiter.bookings()).toEqual([clock.now - 10]);
    await limiter.acquire();
    await limiter.acquire();
    expect(waits).toEqual([]);

    state.set("rate-window:halopsa:other", "not json");
    const fresh = limiterAt(clock, []);
    keepRateWindows(new Map([["halopsa:other", fresh]]), state, createLogger("error"));
    expect(fresh.bookings()).toEqual([]);
  });
});

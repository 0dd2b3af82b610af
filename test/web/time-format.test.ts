/**
 * Times as the queue shows them.
 */
import { describe, expect, it } from "vitest";
import { ago, due, span, utc } from "../../src/admin/web/time-format.js";

describe("time format", () => {
  const now = new Date("2026-05-06T12:00:00.000Z");
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

  it("says how long until a task is due, or how long it is overdue", () => {
    expect(due(at(23.6 * 3_600_000), now)).toEqual({ overdue: false, text: "due in 24 h" });
    expect(due(at(-90 * 60_000), now)).toEqual({ overdue: true, text: "overdue by 2 h" });
    expect(due(at(-400), now)).toEqual({ overdue: true, text: "overdue by less than a minute" });
    expect(due(at(-3 * 86_400_000), now)).toEqual({ overdue: true, text: "overdue by 3 d" });
  });

  it("rounds to the unit that reads best", () => {
    expect(span(59_000)).toBe("less than a minute");
    expect(span(12 * 60_000)).toBe("12 min");
    expect(span(47 * 3_600_000)).toBe("47 h");
    expect(span(49 * 3_600_000)).toBe("2 d");
  });

  it("says just now for the last few seconds, then how long ago", () => {
    expect(ago(at(-3000), now)).toBe("just now");
    expect(ago(at(-5 * 60_000), now)).toBe("5 min ago");
  });

  it("shows the exact time in UTC to the minute", () => {
    expect(utc("2026-05-06T09:05:59.999Z")).toBe("2026-05-06 09:05 UTC");
  });
});

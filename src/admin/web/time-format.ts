/**
 * Times as people read them in a queue: "due in 3 h", "overdue by 2 d", with the exact UTC time
 * beside it (the server does not know the reader's time zone, and the page runs no script).
 */

/** "14:02 UTC, 6 May 2026"-style exact time: `2026-05-06 14:02 UTC`. */
export function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A duration in the largest unit that keeps it readable: less than a minute, 12 min, 5 h, 3 d. */
export function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return "less than a minute";
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} d`;
}

export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  return ms < 10_000 ? "just now" : `${span(ms)} ago`;
}

export interface Due {
  readonly overdue: boolean;
  readonly text: string;
}

export function due(dueAt: string, now: Date): Due {
  const left = Date.parse(dueAt) - now.getTime();
  return left < 0 ? { overdue: true, text: `overdue by ${span(left)}` } : { overdue: false, text: `due in ${span(left)}` };
}

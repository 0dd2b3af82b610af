/**
 * An audit event's change in words: which fields changed, from what to what ("state active →
 * disabled", "role agent → admin"), what a new record holds and what a removed one held. The raw
 * before and after stay on the page; this is what a person reads first.
 */

/** Bookkeeping that changes with every write and says nothing about access. */
const IGNORED = new Set(["schemas", "meta", "version", "updatedAt", "createdAt", "lastSyncAt", "createUnsettledAt", "summary", "password"]);
/** How many lines one event gets before "and N more". */
const MAX_LINES = 6;
const MAX_VALUE = 80;

type Flat = Map<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Scalars and arrays by dotted path; objects are opened two levels deep (name.givenName, settings.teams). */
function flatten(v: unknown, prefix = "", depth = 0, out: Flat = new Map()): Flat {
  if (!isRecord(v)) {
    if (prefix !== "") out.set(prefix, v);
    return out;
  }
  for (const [k, child] of Object.entries(v)) {
    if (IGNORED.has(k)) continue;
    const key = prefix === "" ? k : `${prefix}.${k}`;
    if (isRecord(child) && depth < 2) flatten(child, key, depth + 1, out);
    else out.set(key, child);
  }
  return out;
}

/** A value as a person reads it: text as is, nothing as "none", an email list by its addresses. */
function show(v: unknown): string {
  if (v === undefined || v === null || v === "") return "none";
  if (Array.isArray(v)) {
    if (v.length === 0) return "none";
    return v.map((e) => (isRecord(e) && "value" in e ? show(e["value"]) : isRecord(e) && "display" in e ? show(e["display"]) : show(e))).join(", ");
  }
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Members and other id lists read better as what was added and removed than as two long lists. */
function listChange(key: string, before: unknown[], after: unknown[]): string {
  const b = new Set(before.map(show));
  const a = new Set(after.map(show));
  const added = [...a].filter((x) => !b.has(x));
  const removed = [...b].filter((x) => !a.has(x));
  const parts = [added.length > 0 && `added ${added.join(", ")}`, removed.length > 0 && `removed ${removed.join(", ")}`].filter(Boolean);
  return `${key}: ${parts.length > 0 ? parts.join("; ") : "reordered or edited"}`;
}

export function changeSummary(before: unknown, after: unknown): string[] {
  const lines: string[] = [];
  const lead = isRecord(after) && typeof after["summary"] === "string" ? after["summary"] : undefined;
  if (lead !== undefined) lines.push(lead);
  if (before === undefined && after === undefined) return lines;
  const b = flatten(before);
  const a = flatten(after);
  if (before === undefined || !isRecord(before)) {
    // A new record: what it was created with.
    for (const [k, v] of a) if (v !== null && v !== undefined && v !== "") lines.push(`${k}: ${show(v)}`);
  } else if (after === undefined || !isRecord(after)) {
    lines.push(`removed, with ${[...b].filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `${k} ${show(v)}`).slice(0, 3).join(", ") || "nothing recorded"}`);
  } else {
    for (const key of new Set([...b.keys(), ...a.keys()])) {
      const from = b.get(key);
      const to = a.get(key);
      if (JSON.stringify(from) === JSON.stringify(to)) continue;
      if (Array.isArray(from) && Array.isArray(to) && !key.endsWith("emails")) lines.push(listChange(key, from, to));
      else lines.push(`${key} ${show(from)} → ${show(to)}`);
    }
    if (lines.length === 0) lines.push("no field changed");
  }
  if (lines.length <= MAX_LINES) return lines;
  return [...lines.slice(0, MAX_LINES - 1), `and ${lines.length - MAX_LINES + 1} more`];
}

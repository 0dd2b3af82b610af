/**
 * Cursors of RFC 9865 (cursor-based pagination of SCIM resources). A cursor names a position in one
 * query's order: the sort key and pk of the row it follows (or precedes, for `previousCursor`), so
 * the next page is a keyset query (`WHERE (key, pk) > (?, ?)`), never an OFFSET, and the server keeps
 * no state per walk. The query it belongs to (resource type, filter, sortBy, sortOrder) is bound in
 * as a fingerprint, so a cursor replayed with another filter is refused rather than silently
 * continuing a different list.
 *
 * On the wire a cursor is base64url JSON, a dot and a checksum: only RFC 3986 §2.3 unreserved
 * characters, as RFC 9865 §2 requires. The checksum catches a truncated or altered cursor; it is not
 * a signature, because a cursor grants nothing: it only positions a list the bearer token may read
 * in full anyway, and every value in it is bound as an SQL parameter.
 */
import { createHash } from "node:crypto";
import { BridgeError } from "../errors.js";

/**
 * Seconds a cursor stays valid after the page that issued it (RFC 9865 §4 `cursorTimeout`). Keyset
 * cursors hold no server state, so the limit is a promise about the walk, not a resource: an hour is
 * many times the longest page interval an IdP import shows, and advertised in /ServiceProviderConfig.
 */
export const CURSOR_TIMEOUT_SECONDS = 3600;

/** A sort key value as SQLite returns it for the sort expressions of list-query.ts. */
export type SortKey = string | number | null;

/** A row's place in the order: its pk, and its sort key when the list is sorted by an attribute. */
export interface Position {
  readonly pk: number;
  readonly key?: SortKey;
}

/** Which side of `at` the page lies on; no `at` means from the start of the list. */
export interface Walk {
  readonly before: boolean;
  readonly at?: Position;
}

export interface Cursor extends Walk {
  /** Root-level search only: the resource type the position belongs to (Users come before Groups). */
  readonly side?: "User" | "Group";
}

interface Payload {
  /** Fingerprint of the query. */
  q: string;
  /** Seconds since the epoch when the cursor was issued. */
  t: number;
  b?: 1;
  p?: number;
  k?: SortKey;
  s?: "User" | "Group";
}

const digest = (text: string): string => createHash("sha256").update(text).digest("base64url").slice(0, 16);

/**
 * What makes two requests the same list (RFC 9865 §2: every parameter but `cursor` stays the same
 * while paging). `count` and the projection may change between pages without harm, so they are not bound.
 */
export function queryFingerprint(scope: string, params: { filter?: string | undefined; sortBy?: string | undefined; sortOrder?: string | undefined }): string {
  return digest(JSON.stringify([scope, params.filter?.trim() ?? "", params.sortBy ?? "", (params.sortOrder ?? "ascending").toLowerCase()]));
}

export function encodeCursor(fingerprint: string, cursor: Cursor, now: Date): string {
  const payload: Payload = { q: fingerprint, t: Math.floor(now.getTime() / 1000) };
  if (cursor.before) payload.b = 1;
  if (cursor.at) {
    payload.p = cursor.at.pk;
    if (cursor.at.key !== undefined) payload.k = cursor.at.key;
  }
  if (cursor.side) payload.s = cursor.side;
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${digest(body)}`;
}

const invalid = (why: string) =>
  new BridgeError("invalidCursor", `cursor is invalid (${why}): send an empty cursor for the first page, then the nextCursor or previousCursor of the last response`);

function readPayload(raw: string): Payload {
  const [body, check, extra] = raw.split(".");
  if (body === undefined || check === undefined || extra !== undefined || digest(body) !== check) throw invalid("not a cursor this server issued");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw invalid("not a cursor this server issued");
  }
  if (!isPayload(parsed)) throw invalid("not a cursor this server issued");
  return parsed;
}

function isPayload(v: unknown): v is Payload {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Record<string, unknown>;
  const key = p["k"];
  return (
    typeof p["q"] === "string" &&
    Number.isSafeInteger(p["t"]) &&
    (p["b"] === undefined || p["b"] === 1) &&
    (p["p"] === undefined || Number.isSafeInteger(p["p"])) &&
    (key === undefined || key === null || typeof key === "string" || (typeof key === "number" && Number.isFinite(key))) &&
    (p["s"] === undefined || p["s"] === "User" || p["s"] === "Group")
  );
}

/**
 * The walk a request's `cursor` asks for. Empty means the first page (RFC 9865 §2). A cursor of
 * another query is `invalidCursor`; one older than CURSOR_TIMEOUT_SECONDS is `expiredCursor` (§2.1).
 */
export function decodeCursor(raw: unknown, fingerprint: string, now: Date): Cursor {
  if (typeof raw !== "string") throw invalid("give it once, as a string");
  if (raw === "") return { before: false };
  const p = readPayload(raw);
  if (p.q !== fingerprint) throw invalid("it belongs to a query with another filter, sortBy or sortOrder");
  if (now.getTime() / 1000 - p.t > CURSOR_TIMEOUT_SECONDS) {
    throw new BridgeError("expiredCursor", `cursor has expired: a cursor is valid for ${CURSOR_TIMEOUT_SECONDS} seconds (cursorTimeout); start again with an empty cursor`);
  }
  const at = p.p === undefined ? undefined : p.k === undefined ? { pk: p.p } : { pk: p.p, key: p.k };
  return { before: p.b === 1, ...(at ? { at } : {}), ...(p.s ? { side: p.s } : {}) };
}

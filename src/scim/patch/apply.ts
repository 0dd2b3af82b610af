/**
 * RFC 7644 §3.5.2.1–3 add/replace/remove over a resource's stored attributes. Pure: it works on
 * a copy and returns the new attributes, so it is atomic by construction (any bad operation
 * throws before anything is returned, and the caller writes nothing).
 *
 * Group `members` are rows, not attributes: every members operation becomes a MemberOp for the
 * caller to apply in order.
 */
import { BridgeError } from "../../errors.js";
import { coerceAttributeValue } from "../coerce.js";
import { isObject, type Json, type JsonObject } from "../../domain/json.js";
import type { Filter, PatchPath } from "../filter/ast.js";
import { matchesElement } from "../filter/evaluate.js";
import type { AttributeDef, ResourceSchema } from "../schema.js";
import { isMembers, toMemberOp, type MemberOp } from "./members.js";
import type { PatchOperation } from "./normalize.js";

export type { MemberOp } from "./members.js";

export interface PatchResult {
  readonly attributes: JsonObject;
  readonly memberOps: MemberOp[];
}

/** Applies `ops` in order to a copy of `current` (never mutated). Throws BridgeError on the first bad op. */
export function applyPatch(resource: ResourceSchema, current: JsonObject, ops: readonly PatchOperation[]): PatchResult {
  const attributes = structuredClone(current);
  const memberOps: MemberOp[] = [];
  for (const op of ops) {
    if (isMembers(resource, op.path)) {
      const memberOp = toMemberOp(op);
      if (memberOp) memberOps.push(memberOp);
    } else {
      applyAttributeOp(slotOf(resource, attributes, op.path), op);
    }
  }
  return { attributes, memberOps };
}

// ---------------------------------------------------------------------------------------------
// Attributes

/** Where a top-level attribute lives: the resource itself, or its extension object. */
interface Slot {
  get(): Json | undefined;
  /** undefined deletes the attribute (and an extension object left empty). */
  set(value: Json | undefined): void;
}

function slotOf(resource: ResourceSchema, attributes: JsonObject, path: PatchPath): Slot {
  const name = path.attribute.name;
  const schema = path.schema?.toLowerCase();
  const urn = resource.extensions.find((e) => e.id.toLowerCase() === schema)?.id;
  if (urn === undefined) {
    return {
      get: () => attributes[name],
      set: (value) => {
        if (value === undefined) delete attributes[name];
        else attributes[name] = value;
      },
    };
  }
  return {
    get: () => {
      const holder = attributes[urn];
      return isObject(holder) ? holder[name] : undefined;
    },
    set: (value) => {
      const existing = attributes[urn];
      const holder = isObject(existing) ? existing : {};
      if (value === undefined) delete holder[name];
      else holder[name] = value;
      if (Object.keys(holder).length === 0) delete attributes[urn];
      else attributes[urn] = holder;
    },
  };
}

function applyAttributeOp(slot: Slot, op: PatchOperation): void {
  const { path } = op;
  const def = path.attribute;
  if (path.filter) {
    if (!def.multiValued) throw new BridgeError("invalidPath", `${path.text}: only multi-valued attributes take a filter`);
    applyFiltered(slot, op, path.filter);
  } else if (def.multiValued) {
    if (path.sub) applyMultiValuedSub(slot, op, path.sub);
    else applyMultiValued(slot, op);
  } else if (path.sub) {
    const existing = slot.get();
    const holder = isObject(existing) ? { ...existing } : {};
    setSub(holder, path.sub, op.op === "remove" ? undefined : op.value, path.text);
    slot.set(Object.keys(holder).length === 0 ? undefined : holder);
  } else if (op.op === "remove") {
    slot.set(undefined);
  } else if (def.type === "complex") {
    // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not in the value are left unchanged.
    // An empty object clears the attribute, as null does.
    const existing = slot.get();
    const empty = isObject(op.value) && Object.keys(op.value).length === 0;
    slot.set(empty ? undefined : mergeComplex(def, isObject(existing) ? existing : {}, op.value, path.text));
  } else {
    // Single-valued simple attribute: add and replace both set it; null or "" clears it (RFC 7644 §3.5.2.3).
    slot.set(coerceValue(def, op.value, path.text));
  }
}

/** `emails`, `roles`, … with no filter and no sub-attribute. */
function applyMultiValued(slot: Slot, op: PatchOperation): void {
  const def = op.path.attribute;
  if (op.op === "remove") return slot.set(undefined);
  const incoming = asArray(coerceValue(def, op.value, op.path.text));
  if (op.op === "replace") {
    // RFC 7644 §3.5.2.3: without a filter the whole multi-valued attribute is replaced.
    settlePrimary(incoming, incoming, op.path.text);
    return slot.set(incoming.length === 0 ? undefined : incoming);
  }
  // RFC 7644 §3.5.2.1: add appends; a value already present is not duplicated but updated in place.
  const items = asArray(slot.get());
  const written: Json[] = [];
  for (const item of incoming) {
    const same = items.find((existing) => sameElement(def, existing, item));
    if (same !== undefined && isObject(same) && isObject(item)) {
      Object.assign(same, item);
      written.push(same);
    } else if (same === undefined) {
      items.push(item);
      written.push(item);
    }
  }
  settlePrimary(items, written, op.path.text);
  slot.set(items.length === 0 ? undefined : items);
}

/** `emails.type` with no filter: every element (RFC 7644 §3.5.2: no filter selects all values). */
function applyMultiValuedSub(slot: Slot, op: PatchOperation, sub: AttributeDef): void {
  const items = asArray(slot.get()).filter(isObject);
  const value = op.op === "remove" ? undefined : coerceValue(sub, op.value, op.path.text);
  if (value === undefined) return slot.set(orUndefined(clearSub(items, items, sub)));
  if (items.length === 0) items.push({});
  for (const item of items) item[sub.name] = value;
  settlePrimary(items, items, op.path.text);
  slot.set(items);
}

/** `emails[type eq "work"]` and `emails[type eq "work"].value`. */
function applyFiltered(slot: Slot, op: PatchOperation, filter: Filter): void {
  const { path } = op;
  const def = path.attribute;
  const items = asArray(slot.get());
  const matched = items.filter((item): item is JsonObject => isObject(item) && matchesElement(filter, item));

  if (path.sub) {
    const value = op.op === "remove" ? undefined : coerceValue(path.sub, op.value, path.text);
    // Remove, or set to null/"": remove of an absent value is a no-op, not noTarget.
    if (value === undefined) return slot.set(orUndefined(clearSub(items, matched, path.sub)));
    if (matched.length > 0) {
      for (const item of matched) item[path.sub.name] = value;
      settlePrimary(items, matched, path.text);
    } else {
      // Entra sends `Add emails[type eq "work"].value` to users with no work email and expects the
      // email to exist afterwards: create the element from the filter's eq conditions. (RFC 7644
      // §3.5.2.3 would answer noTarget; we do only when the filter describes no element.)
      const created = { ...synthesize(filter, path), [path.sub.name]: value };
      items.push(created);
      settlePrimary(items, [created], path.text);
    }
    return slot.set(items);
  }

  const selected = new Set<Json>(matched);
  if (op.op === "remove" || op.value === null) return slot.set(orUndefined(items.filter((item) => !selected.has(item))));
  const single: AttributeDef = { ...def, multiValued: false };
  const written: JsonObject[] = [];
  if (matched.length === 0) {
    const created = mergeComplex(single, synthesize(filter, path), op.value, path.text);
    if (created) {
      items.push(created);
      written.push(created);
    }
  } else {
    // add merges the given sub-attributes into each selected element; replace replaces each one
    // (RFC 7644 §3.5.2.3), keeping the filter's eq conditions so it still answers to the filter.
    const base = op.op === "replace" ? (conditionsOf(filter) ?? {}) : undefined;
    for (const [i, item] of items.entries()) {
      if (!selected.has(item) || !isObject(item)) continue;
      const next = mergeComplex(single, base ?? item, op.value, path.text);
      items[i] = next ?? {};
      if (next) written.push(next);
    }
  }
  settlePrimary(items, written, path.text);
  slot.set(orUndefined(items.filter((item) => !isObject(item) || Object.keys(item).length > 0)));
}

/**
 * Drops `sub` from the `targets` among `items`. Removing `value` removes the whole element: an
 * email without an address means nothing, and Entra clears a user's work email with
 * `{"op":"Remove","path":"emails[type eq \"work\"].value"}`. Elements left empty are dropped.
 */
function clearSub(items: Json[], targets: readonly JsonObject[], sub: AttributeDef): Json[] {
  const out: Json[] = [];
  for (const item of items) {
    if (!isObject(item) || !targets.includes(item)) {
      out.push(item);
      continue;
    }
    if (sub.name === "value") continue;
    delete item[sub.name];
    if (Object.keys(item).length > 0) out.push(item);
  }
  return out;
}

/** The element a filter's `eq` conditions describe (`type eq "work"` → `{type: "work"}`), else noTarget. */
function synthesize(filter: Filter, path: PatchPath): JsonObject {
  const conditions = conditionsOf(filter);
  if (!conditions) {
    throw new BridgeError("noTarget", `${path.text}: no value matches the filter and none can be created from it`);
  }
  return conditions;
}

/** `a eq x` or `a eq x and b eq y` on sub-attributes, as an object; undefined for any other filter. */
function conditionsOf(filter: Filter): JsonObject | undefined {
  if (filter.kind === "compare") {
    const sub = filter.attr.resolved.sub;
    if (filter.op !== "eq" || !sub || filter.value === null) return undefined;
    const value = coerceValue(sub, filter.value, filter.attr.text);
    return value === undefined ? undefined : { [sub.name]: value };
  }
  if (filter.kind === "and") {
    const left = conditionsOf(filter.left);
    const right = conditionsOf(filter.right);
    if (!left || !right) return undefined;
    // `type eq "work" and type eq "home"` describes no element.
    for (const key of Object.keys(left)) if (key in right && !sameJson(left[key], right[key])) return undefined;
    return { ...left, ...right };
  }
  return undefined;
}

/**
 * `base` with the sub-attributes of `value` set (null or "" removes one). A non-object value is
 * coerced whole, so Entra's `manager: "id"` becomes `{ value: "id" }`. Returns undefined when
 * nothing is left.
 */
function mergeComplex(def: AttributeDef, base: JsonObject, value: unknown, where: string): JsonObject | undefined {
  const out: JsonObject = { ...base };
  if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      const sub = def.subByKey.get(key.toLowerCase());
      if (sub) setSub(out, sub, v, where);
    }
  } else {
    const coerced = coerceValue(def, value, where);
    if (coerced === undefined) return undefined;
    Object.assign(out, coerced);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function setSub(holder: JsonObject, sub: AttributeDef, value: unknown, where: string): void {
  const coerced = coerceValue(sub, value, `${where}.${sub.name}`);
  if (coerced === undefined) delete holder[sub.name];
  else holder[sub.name] = coerced;
}

/**
 * RFC 7643 §2.4: `primary: true` appears at most once per attribute. The element just written
 * wins and the others lose it; two primaries written at once are a client error.
 */
function settlePrimary(items: readonly Json[], written: readonly Json[], where: string): void {
  const winners = written.filter((item) => isObject(item) && item["primary"] === true);
  if (winners.length > 1) throw new BridgeError("invalidValue", `${where}: only one value may be primary`);
  const [winner] = winners;
  if (winner === undefined) return;
  for (const item of items) if (item !== winner && isObject(item) && item["primary"] === true) item["primary"] = false;
}

/**
 * Whether `b` is already present as `a`. Elements with a `value` are the same when the values are
 * equal (case-insensitively unless caseExact) and their `type`s do not differ; others compare whole.
 */
function sameElement(def: AttributeDef, a: Json, b: Json): boolean {
  if (!isObject(a) || !isObject(b)) return sameScalar(def, a, b);
  const valueDef = def.subByKey.get("value");
  if (valueDef && a["value"] !== undefined && b["value"] !== undefined) {
    if (!sameScalar(valueDef, a["value"], b["value"])) return false;
    const [ta, tb] = [a["type"], b["type"]];
    return ta === undefined || tb === undefined || sameScalar({ ...valueDef, caseExact: false }, ta, tb);
  }
  return sameJson(a, b);
}

function sameScalar(def: AttributeDef, a: Json | undefined, b: Json | undefined): boolean {
  if (typeof a === "string" && typeof b === "string" && !def.caseExact) return a.toLowerCase() === b.toLowerCase();
  return sameJson(a, b);
}

function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** coerceAttributeValue, with "" also meaning "no value": clearing a field by sending "" clears it. */
function coerceValue(def: AttributeDef, value: unknown, where: string): Json | undefined {
  const coerced = coerceAttributeValue(def, value, where);
  return coerced === "" ? undefined : coerced;
}

function asArray(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function orUndefined(items: Json[]): Json[] | undefined {
  return items.length === 0 ? undefined : items;
}

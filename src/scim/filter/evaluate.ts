/**
 * In-memory evaluation of a parsed filter over a resource as served (canonical attribute names,
 * extension attributes under their schema URN). Used for PATCH value filters (RFC 7644 §3.5.2)
 * and as the reference the SQL translation (sql.ts) is property-tested against: both must agree
 * on every filter, so every rule here has a twin there.
 */
import { fold } from "../../domain/folding.js";
import { isObject, type Json, type JsonObject } from "../../domain/json.js";
import { resourceSchemas, type AttributeDef, type ResolvedPath } from "../schema.js";
import type { CompareOp, Filter, Literal } from "./ast.js";

export function matchesFilter(filter: Filter, resource: JsonObject): boolean {
  return evaluate(filter, {
    values: (path) => valuesOf(resource, path),
    present: (path) => presentIn(resource, path),
    elements: (path) => elementsOf(topValue(resource, path)),
  });
}

/**
 * Whether one element of a multi-valued attribute (e.g. one of `emails`) satisfies a value
 * filter's inner filter, whose attribute references all name sub-attributes of that element.
 */
export function matchesElement(filter: Filter, element: JsonObject): boolean {
  const valueAt = (path: ResolvedPath): Json | undefined => (path.sub ? element[path.sub.name] : undefined);
  return evaluate(filter, {
    values: (path) => [valueAt(path)],
    present: (path) => isPresent(valueAt(path)),
    // The parser allows no value path inside a value filter.
    elements: () => [],
  });
}

const CORE_URNS: ReadonlySet<string> = new Set(resourceSchemas.map((r) => r.core.id));

/** Where attribute values come from: a whole resource, or one element inside a value filter. */
interface Scope {
  values(path: ResolvedPath): readonly (Json | undefined)[];
  present(path: ResolvedPath): boolean;
  elements(path: ResolvedPath): readonly Json[];
}

function evaluate(filter: Filter, scope: Scope): boolean {
  switch (filter.kind) {
    case "and":
      return evaluate(filter.left, scope) && evaluate(filter.right, scope);
    case "or":
      return evaluate(filter.left, scope) || evaluate(filter.right, scope);
    case "not":
      return !evaluate(filter.operand, scope);
    case "present":
      return scope.present(filter.attr.resolved);
    case "compare": {
      const def = filter.attr.resolved.sub ?? filter.attr.resolved.attribute;
      // `ne` is exactly `not eq`, so it also holds when the attribute is absent.
      const op = filter.op === "ne" ? "eq" : filter.op;
      const any = scope.values(filter.attr.resolved).some((v) => compareValue(def, op, filter.value, v));
      return filter.op === "ne" ? !any : any;
    }
    case "valuePath":
      // RFC 7644 §3.4.2.2: one element must satisfy the whole inner filter.
      return scope.elements(filter.attr.resolved).some((e) => isObject(e) && matchesElement(filter.filter, e));
  }
}

/** The attribute's value: core and common attributes at the root, extensions under their URN (RFC 7643 §3). */
function topValue(resource: JsonObject, path: ResolvedPath): Json | undefined {
  const container = path.schema === null || CORE_URNS.has(path.schema) ? resource : resource[path.schema];
  return isObject(container) ? container[path.attribute.name] : undefined;
}

/** Every value the path denotes: one for a single-valued attribute, one per element otherwise. */
function valuesOf(resource: JsonObject, path: ResolvedPath): readonly (Json | undefined)[] {
  const top = topValue(resource, path);
  if (path.sub) {
    const sub = path.sub;
    return elementsOf(top).map((e) => (isObject(e) ? e[sub.name] : undefined));
  }
  return path.attribute.multiValued ? elementsOf(top) : [top];
}

function presentIn(resource: JsonObject, path: ResolvedPath): boolean {
  // A multi-valued attribute is present when it has any element (RFC 7643 §2.5: [] means unassigned).
  if (!path.sub && path.attribute.multiValued) return elementsOf(topValue(resource, path)).length > 0;
  return valuesOf(resource, path).some(isPresent);
}

/** RFC 7643 §2.5: null, "" (for pr), an empty array and an empty object all mean "no value". */
function isPresent(v: Json | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "string") return v !== "";
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

function elementsOf(v: Json | undefined): readonly Json[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function compareValue(def: AttributeDef, op: Exclude<CompareOp, "ne">, literal: Literal, actual: Json | undefined): boolean {
  if (typeof literal === "boolean") return op === "eq" && actual === literal;
  if (typeof literal === "number") return typeof actual === "number" && compareNumbers(op, actual, literal);
  if (typeof literal !== "string" || typeof actual !== "string") return false;
  // caseExact=false strings compare folded (RFC 7643 §2.2), with the fold the SQL side uses.
  // dateTimes are canonical toISOString() text on both sides and compare as they are.
  const folds = !def.caseExact && def.type !== "dateTime";
  const a = folds ? fold(actual) : actual;
  const b = folds ? fold(literal) : literal;
  switch (op) {
    case "eq":
      return a === b;
    case "co":
      return a.includes(b);
    case "sw":
      return a.startsWith(b);
    case "ew":
      return a.endsWith(b);
    default:
      return compareNumbers(op, compareCodePoints(a, b), 0);
  }
}

function compareNumbers(op: Exclude<CompareOp, "ne">, a: number, b: number): boolean {
  switch (op) {
    case "eq":
      return a === b;
    case "gt":
      return a > b;
    case "ge":
      return a >= b;
    case "lt":
      return a < b;
    case "le":
      return a <= b;
    default:
      return false;
  }
}

/**
 * Orders strings by Unicode code point, as SQLite orders UTF-8 TEXT (memcmp). JavaScript's `<`
 * compares UTF-16 code units, which puts astral characters (surrogates, 0xD800–0xDFFF) before
 * U+E000–U+FFFF; comparing code points at the first difference fixes exactly that case.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) {
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
    }
  }
  return a.length - b.length;
}

/**
 * A zod issue of the config in words a person can act on: the value as written, what is wrong
 * with it and what is allowed (`"manul" is not one of halopsa, huntress, manual`), never zod's
 * "expected number, received NaN", which describes the value after coercion, not what was typed.
 */
import type { z } from "zod";
import { editDistance } from "./domain/string-distance.js";

type Issue = z.core.$ZodIssue;

/** The value at `path` of the raw (unparsed) config, as the user wrote it. */
export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current = raw;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Keys whose values are never repeated in an error (tokens, client secrets, API keys, a webhook URL whose path is its secret). */
function isSecretPath(path: readonly PropertyKey[]): boolean {
  return path.some((k) => typeof k === "string" && /token|secret|key|password|webhook/i.test(k));
}

/** Stands in for a secret's value: `shown` renders it as the words below. */
const SECRET = Symbol("secret");

/** A short rendering of a written value: strings quoted, long ones cut. */
export function shown(value: unknown): string {
  if (value === SECRET) return "the value given";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const A_TYPE: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "a text",
  boolean: "true or false",
  array: "a list",
  object: "a mapping of keys",
  record: "a mapping of keys",
};

function typeWords(expected: string): string {
  return A_TYPE[expected] ?? `a ${expected}`;
}

function limit(issue: Extract<Issue, { code: "too_small" | "too_big" }>, value: unknown): string {
  const small = issue.code === "too_small";
  const bound = small ? issue.minimum : issue.maximum;
  const inclusive = issue.inclusive !== false;
  const relation = small ? (inclusive ? "at least" : "more than") : inclusive ? "at most" : "less than";
  if (issue.origin === "string") return `must be ${relation} ${String(bound)} characters long`;
  if (issue.origin === "array") return `must have ${relation} ${String(bound)} entries`;
  return `${shown(value)} is out of range: must be ${relation} ${String(bound)}`;
}

/** The words for one issue, without its key; `raw` is the config as written (file and environment merged). */
export function describeIssue(issue: Issue, raw: unknown, secret = isSecretPath(issue.path)): string {
  const value = secret ? SECRET : valueAt(raw, issue.path);
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) return `is required (${typeWords(issue.expected)})`;
      return `${shown(value)} is not ${typeWords(issue.expected)}`;
    case "invalid_value":
      return `${shown(value)} is not one of ${issue.values.map((v) => (typeof v === "string" ? v : shown(v))).join(", ")}`;
    case "too_small":
    case "too_big":
      return limit(issue, value);
    case "invalid_format":
      if (issue.format === "url") return `${shown(value)} is not a URL (write it as https://host or http://host:port)`;
      return `${shown(value)} is not a valid ${issue.format}`;
    case "not_multiple_of":
      return `${shown(value)} is not a multiple of ${String(issue.divisor)}`;
    case "unrecognized_keys":
      return "unknown key";
    case "invalid_union":
      return describeUnion(issue, value);
    default:
      return issue.message;
  }
}

/**
 * A union (a template given by name or in full; trustProxy as true, a hop count or a subnet list):
 * when one alternative has the value's shape, its own complaint is the useful one; otherwise list
 * the shapes allowed.
 */
function describeUnion(issue: Extract<Issue, { code: "invalid_union" }>, value: unknown): string {
  if (!issue.message.startsWith("Invalid input")) return issue.message;
  const branches = issue.errors ?? [];
  const shaped = branches.find((b) => b.length > 0 && b.every((i) => i.code !== "invalid_type" || i.path.length > 0));
  // A sub-issue's path is relative to the union's value, which is its root.
  if (shaped) return shaped.map((i) => (i.path.length > 0 ? `${i.path.map(String).join(".")}: ` : "") + describeIssue({ ...i, path: [] } as Issue, valueAt(value, i.path), value === SECRET)).join("; ");
  const expected = branches.flatMap((b) => b.filter((i) => i.code === "invalid_type").map((i) => typeWords(i.expected)));
  return expected.length > 0 ? `${shown(value)} is not ${[...new Set(expected)].join(" or ")}` : issue.message;
}

interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, { _zod: { def: SchemaDef } }>;
  readonly innerType?: { _zod: { def: SchemaDef } };
  readonly element?: { _zod: { def: SchemaDef } };
  readonly in?: { _zod: { def: SchemaDef } };
  readonly options?: readonly { _zod: { def: SchemaDef } }[];
  readonly discriminator?: string;
}

/** Through wrappers (optional, default, pipe…) to the schema that decides the shape. */
function unwrap(def: SchemaDef): SchemaDef {
  if (def.innerType) return unwrap(def.innerType._zod.def);
  if (def.type === "pipe" && def.in) return unwrap(def.in._zod.def);
  return def;
}

/**
 * The keys an object of the config may have at `path` (as written in `raw`), by walking the
 * schema; a union of app types is narrowed by the entry's `type`. Empty when it cannot tell.
 */
export function allowedKeysAt(schema: { _zod: { def: SchemaDef } }, path: readonly PropertyKey[], raw: unknown): string[] {
  let defs = [unwrap(schema._zod.def)];
  let value = raw;
  const narrow = (ds: SchemaDef[]): SchemaDef[] =>
    ds.flatMap((d) => {
      if (!d.options) return [d];
      const options = d.options.map((o) => unwrap(o._zod.def));
      const discriminator = d.discriminator;
      const wanted = discriminator && value !== null && typeof value === "object" ? (value as Record<string, unknown>)[discriminator] : undefined;
      const matching = options.filter((o) => {
        const literal = o.shape?.[discriminator ?? ""]?._zod.def as unknown as { values?: unknown[] } | undefined;
        return wanted === undefined || literal?.values?.includes(wanted) === true;
      });
      return narrow(matching.length > 0 ? matching : options);
    });
  for (const key of path) {
    defs = narrow(defs).flatMap((d) => {
      if (typeof key === "number" && d.element) return [unwrap(d.element._zod.def)];
      const next = typeof key === "string" ? d.shape?.[key] : undefined;
      return next ? [unwrap(next._zod.def)] : [];
    });
    value = valueAt(value, [key]);
  }
  return [...new Set(narrow(defs).flatMap((d) => Object.keys(d.shape ?? {})))];
}

/** "unknown key; did you mean port?" with the closest allowed key, or the list of them. */
export function unknownKeyWords(key: string, allowed: readonly string[]): string {
  if (allowed.length === 0) return "unknown key";
  const [closest] = allowed
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .filter((c) => c.d <= Math.max(1, Math.floor(key.length / 4)))
    .sort((a, b) => a.d - b.d);
  return closest ? `unknown key; did you mean ${closest.k}?` : `unknown key (allowed: ${[...allowed].sort().join(", ")})`;
}

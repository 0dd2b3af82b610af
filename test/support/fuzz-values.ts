/**
 * Hostile values for the fuzz tests: strings that break naive code (NUL, lone surrogates, case
 * folds that change length, huge), JSON of every type and shape, structural mutations of a JSON
 * document, and corruptions of its text.
 */
import fc from "fast-check";

/** Mixed case, folds that change length (ß, İ), astral characters, quotes, backslashes, NUL, lone surrogates. */
const NASTY_CHARS = ["a", "Z", "é", "ß", "İ", "ς", "😀", " ", '"', "\\", "\u0000", "\ud800", "\udfff", "\u202e", "\n", "%", "'", ";", "[", "]", "(", ")"];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...NASTY_CHARS), { maxLength: 12 }).map((a) => a.join("")) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "True", "False", "null", "0", "-1", "1e999", "NaN", "__proto__", "constructor", "W/\"1\"", "*") },
  // Big enough to matter, small enough to keep the run fast; the body limit is exercised separately.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("x", "é", "😀", "\u0000"), fc.integer({ min: 1000, max: 20_000 })).map(([c, n]) => c.repeat(n)) },
);

/** Any JSON value, including deep and wide ones. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, "", [], {}, [null], [{}], { value: null }) },
  { weight: 1, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 3000 }).map((depth) => nest(depth)) },
);

/** `depth` levels of alternating arrays and objects around a string. */
export function nest(depth: number): unknown {
  let v: unknown = "deep";
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { value: v };
  return v;
}

type Mutation = (doc: Record<string, unknown>) => void;

const keysOf = (doc: Record<string, unknown>): string[] => Object.keys(doc);
const pickKey = (doc: Record<string, unknown>, n: number): string | undefined => keysOf(doc)[n % Math.max(1, keysOf(doc).length)];

function recase(key: string, mode: number): string {
  return mode === 0 ? key.toUpperCase() : mode === 1 ? key.toLowerCase() : key.charAt(0).toUpperCase() + key.slice(1);
}

/**
 * One structural change to a resource document: drop, duplicate under another casing, retype,
 * wrap in an array, unwrap, nest deeply, add unknown attributes or extensions, break `schemas`.
 */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined) delete doc[k];
  }),
  fc.tuple(fc.nat(), fc.nat(2), anyJson).map(([n, mode, v]): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined) doc[recase(k, mode)] = v;
  }),
  fc.tuple(fc.nat(), anyJson).map(([n, v]): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined) doc[k] = v;
  }),
  fc.nat().map((n): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined) doc[k] = [doc[k], doc[k]];
  }),
  fc.nat().map((n): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined && Array.isArray(doc[k])) doc[k] = (doc[k] as unknown[])[0];
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 50, max: 2000 })).map(([n, depth]): Mutation => (doc) => {
    const k = pickKey(doc, n);
    if (k !== undefined) doc[k] = nest(depth);
  }),
  fc.tuple(nastyString, anyJson).map(([k, v]): Mutation => (doc) => {
    doc[k] = v;
  }),
  fc.tuple(fc.constantFrom("urn:example:params:scim:schemas:extension:acme:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:User", "urn:scim-bridge:schemas:extension:access:2.0:User"), anyJson).map(
    ([urn, v]): Mutation => (doc) => {
      doc[urn] = v;
    },
  ),
  fc.constantFrom<unknown>("urn:ietf:params:scim:schemas:core:2.0:User", [], [42], ["urn:wrong"], null, {}, [["nested"]]).map((s): Mutation => (doc) => {
    doc["schemas"] = s;
  }),
);

/** Applies `mutations` in order to a deep copy of `doc`. */
export function mutate(doc: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const copy = structuredClone(doc);
  for (const m of mutations) m(copy);
  return copy;
}

/** Corruptions of JSON text: truncated, a character inserted or deleted, trailing garbage, not JSON at all. */
export const corruptText: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.nat().map((n) => (t: string) => t.slice(0, n % Math.max(1, t.length))),
  fc.tuple(fc.nat(), fc.constantFrom("{", "}", "[", "]", '"', ",", ":", "\\", "\u0000", "💥")).map(([n, c]) => (t: string) => {
    const i = n % (t.length + 1);
    return t.slice(0, i) + c + t.slice(i);
  }),
  fc.nat().map((n) => (t: string) => {
    const i = n % Math.max(1, t.length);
    return t.slice(0, i) + t.slice(i + 1);
  }),
  fc.constantFrom("", " ", "null", "[]", "42", '"text"', "{}{}", "\ufeff{}", "{'single': 'quotes'}", "NaN").map((s) => () => s),
  fc.constant((t: string) => `${t} trailing`),
);

/** Bytes that are not UTF-8 at all (overlong forms, lone continuation bytes, a UTF-16 BOM). */
export const invalidUtf8: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.constantFrom([0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xff, 0xfe], [0xf8, 0x88, 0x80, 0x80, 0x80]), fc.nat(20))
  .map(([bad, at]) => {
    const json = Buffer.from(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"${"u".repeat(at)}"}`);
    const i = 60 + Math.min(at, json.length - 62);
    return Uint8Array.from([...json.subarray(0, i), ...bad, ...json.subarray(i)]);
  });

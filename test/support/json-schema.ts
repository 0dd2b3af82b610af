/**
 * A small JSON Schema validator for the subset openapi.yaml uses (OpenAPI 3.1 schemas are JSON
 * Schema 2020-12). No validator library is a declared dependency; ajv 6 sits in node_modules only
 * as eslint's, and speaks draft-07, not 2020-12. So this one checks exactly these keywords:
 *
 *   type (one or a list; "integer" is a whole number), enum, const, properties, required,
 *   additionalProperties (false or a schema), items, minItems, maxItems, contains, minimum,
 *   maximum, minLength, maxLength, pattern, format "date-time", oneOf, anyOf, allOf, and $ref to
 *   "#/…" JSON pointers in the same document (with siblings applied too, as 2020-12 says).
 *
 * Annotations (description, example, examples, default, title, readOnly, writeOnly, deprecated,
 * $comment) are ignored. Any other keyword, or another format, throws: a schema must never say
 * more than this validator checks, or a passing test would claim what nobody verified.
 * Keywords for one type apply only to values of that type (`required` ignores null), as in the spec.
 * Tested on its own in test/admin/json-schema.test.ts.
 */

export interface SchemaError {
  /** JSON pointer into the value, "" for the value itself. */
  readonly path: string;
  readonly message: string;
}

const ANNOTATIONS = new Set(["description", "example", "examples", "default", "title", "readOnly", "writeOnly", "deprecated", "$comment"]);
const KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minItems",
  "maxItems",
  "contains",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "oneOf",
  "anyOf",
  "allOf",
  "$ref",
]);
const TYPES = new Set(["null", "boolean", "object", "array", "number", "integer", "string"]);

/** RFC 3339 §5.6 date-time (the `format: date-time` of JSON Schema). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export class UnsupportedSchemaError extends Error {
  override readonly name = "UnsupportedSchemaError";
}

type Schema = boolean | Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function hasType(v: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return v === null;
    case "boolean":
      return typeof v === "boolean";
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "string":
      return typeof v === "string";
    default:
      throw new UnsupportedSchemaError(`unknown type "${type}"`);
  }
}

/** Structural equality of JSON values, for enum and const. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/** Resolves "#/a/b~1c" in `root` (RFC 6901). */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) throw new UnsupportedSchemaError(`only local $ref is supported, not "${ref}"`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) && !Array.isArray(node)) throw new UnsupportedSchemaError(`$ref ${ref} does not resolve`);
    node = (node as Record<string, unknown>)[key];
    if (node === undefined) throw new UnsupportedSchemaError(`$ref ${ref} does not resolve`);
  }
  return node;
}

const pointer = (path: string, key: string | number): string => `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;

/** Every error of `value` against `schema`; `root` is the document `$ref`s point into. Empty when valid. */
export function validate(schema: unknown, value: unknown, root: unknown = schema): SchemaError[] {
  const errors: SchemaError[] = [];
  check(schema as Schema, value, "", root, errors);
  return errors;
}

function check(schema: Schema, v: unknown, path: string, root: unknown, errors: SchemaError[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push({ path, message: "no value is allowed here" });
    return;
  }
  if (!isObject(schema)) throw new UnsupportedSchemaError(`a schema must be an object or a boolean, got ${typeOf(schema)}`);
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) throw new UnsupportedSchemaError(`keyword "${key}" at schema for "${path}" is not supported by this validator`);
  }
  const fail = (message: string, at = path) => errors.push({ path: at, message });

  if (typeof schema["$ref"] === "string") check(resolvePointer(root, schema["$ref"]) as Schema, v, path, root, errors);

  if (schema["type"] !== undefined) {
    const types = Array.isArray(schema["type"]) ? (schema["type"] as string[]) : [schema["type"] as string];
    for (const t of types) if (!TYPES.has(t)) throw new UnsupportedSchemaError(`unknown type "${t}"`);
    if (!types.some((t) => hasType(v, t))) {
      fail(`expected ${types.join(" or ")}, got ${typeOf(v)}`);
      return; // the keywords below would only repeat the type error
    }
  }
  if (schema["const"] !== undefined && !equal(v, schema["const"])) fail(`expected ${JSON.stringify(schema["const"])}, got ${JSON.stringify(v)}`);
  if (Array.isArray(schema["enum"]) && !schema["enum"].some((e) => equal(v, e))) {
    fail(`expected one of ${schema["enum"].map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(v)}`);
  }

  if (typeof v === "string") {
    if (typeof schema["minLength"] === "number" && [...v].length < schema["minLength"]) fail(`shorter than ${schema["minLength"]} characters`);
    if (typeof schema["maxLength"] === "number" && [...v].length > schema["maxLength"]) fail(`longer than ${schema["maxLength"]} characters`);
    if (typeof schema["pattern"] === "string" && !new RegExp(schema["pattern"], "u").test(v)) fail(`does not match /${schema["pattern"]}/`);
    if (schema["format"] !== undefined) {
      if (schema["format"] !== "date-time") throw new UnsupportedSchemaError(`format "${String(schema["format"])}" is not supported by this validator`);
      if (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) fail(`"${v}" is not an RFC 3339 date-time`);
    }
  } else if (schema["format"] !== undefined && schema["format"] !== "date-time") {
    throw new UnsupportedSchemaError(`format "${String(schema["format"])}" is not supported by this validator`);
  }

  if (typeof v === "number") {
    if (typeof schema["minimum"] === "number" && v < schema["minimum"]) fail(`${v} is below the minimum ${schema["minimum"]}`);
    if (typeof schema["maximum"] === "number" && v > schema["maximum"]) fail(`${v} is above the maximum ${schema["maximum"]}`);
  }

  if (Array.isArray(v)) {
    if (typeof schema["minItems"] === "number" && v.length < schema["minItems"]) fail(`fewer than ${schema["minItems"]} items`);
    if (typeof schema["maxItems"] === "number" && v.length > schema["maxItems"]) fail(`more than ${schema["maxItems"]} items`);
    if (schema["items"] !== undefined) v.forEach((item, i) => check(schema["items"] as Schema, item, pointer(path, i), root, errors));
    if (schema["contains"] !== undefined && !v.some((item) => validate(schema["contains"], item, root).length === 0)) fail("no item matches `contains`");
  }

  if (isObject(v)) {
    const properties = isObject(schema["properties"]) ? (schema["properties"] as Record<string, Schema>) : {};
    if (Array.isArray(schema["required"])) {
      for (const name of schema["required"] as string[]) if (!Object.hasOwn(v, name)) fail(`missing required property "${name}"`);
    }
    for (const [name, value] of Object.entries(v)) {
      if (Object.hasOwn(properties, name)) check(properties[name]!, value, pointer(path, name), root, errors);
      else if (schema["additionalProperties"] === false) fail(`unexpected property "${name}" (not in the schema)`, pointer(path, name));
      else if (schema["additionalProperties"] !== undefined) check(schema["additionalProperties"] as Schema, value, pointer(path, name), root, errors);
    }
  }

  if (Array.isArray(schema["allOf"])) for (const s of schema["allOf"]) check(s as Schema, v, path, root, errors);
  if (Array.isArray(schema["anyOf"]) && !schema["anyOf"].some((s) => validate(s, v, root).length === 0)) fail("matches none of `anyOf`");
  if (Array.isArray(schema["oneOf"])) {
    const matching = schema["oneOf"].filter((s) => validate(s, v, root).length === 0).length;
    if (matching !== 1) fail(`matches ${matching} of \`oneOf\`, expected exactly 1`);
  }
}

/**
 * Every keyword in `schema` and the schemas it reaches (following $refs once each) that this
 * validator would not check, as "pointer: keyword". Run over a whole document so that no schema
 * escapes checking because no test response happened to reach its unsupported part.
 */
export function unsupportedKeywords(schema: unknown, root: unknown, at = "#"): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (s: unknown, where: string): void => {
    if (typeof s === "boolean" || seen.has(s)) return;
    if (!isObject(s)) {
      out.push(`${where}: not a schema`);
      return;
    }
    seen.add(s);
    for (const [key, value] of Object.entries(s)) {
      if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) out.push(`${where}: ${key}`);
      else if (key === "format" && value !== "date-time") out.push(`${where}: format ${String(value)}`);
      else if (key === "type") for (const t of Array.isArray(value) ? value : [value]) if (!TYPES.has(t as string)) out.push(`${where}: type ${String(t)}`);
    }
    if (typeof s["$ref"] === "string") walk(resolvePointer(root, s["$ref"]), s["$ref"]);
    if (isObject(s["properties"])) for (const [k, v] of Object.entries(s["properties"])) walk(v, `${where}/properties/${k}`);
    for (const key of ["items", "contains", "additionalProperties"]) if (s[key] !== undefined) walk(s[key], `${where}/${key}`);
    for (const key of ["oneOf", "anyOf", "allOf"]) if (Array.isArray(s[key])) s[key].forEach((v: unknown, i: number) => walk(v, `${where}/${key}/${i}`));
  };
  walk(schema, at);
  return out;
}

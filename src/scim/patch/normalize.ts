/**
 * PATCH request normalisation (RFC 7644 §3.5.2): validates the PatchOp message and turns the
 * dialects Okta and Entra ID speak (docs/vendor-facts.md) into one list of path-ful operations, so apply.ts
 * only ever meets RFC shapes.
 *
 * Values are passed through as sent: apply.ts coerces each against its target's definition
 * (coerceAttributeValue), which is where Entra's "True"/"False" strings become booleans and a
 * plain-string `manager` becomes `{ value }`.
 */
import { BridgeError } from "../../errors.js";
import { isObject, type JsonObject } from "../../domain/json.js";
import type { PatchPath } from "../filter/ast.js";
import { parsePatchPath } from "../filter/parse.js";
import { PATCH_OP, resolvePath, type ResourceSchema, type SchemaDef } from "../schema.js";

export type PatchOpName = "add" | "remove" | "replace";

export interface PatchOperation {
  readonly op: PatchOpName;
  /** Always set: a path-less add/replace is expanded into one operation per attribute. */
  readonly path: PatchPath;
  /** The value as sent (not yet coerced). `null` on add/replace means "clear the target". */
  readonly value?: unknown;
}

// Entra's default dialect capitalises op names (`Add`, `Replace`, `Remove`); RFC 7644 uses lower case.
const OP_NAMES = new Map<string, PatchOpName>([
  ["add", "add"],
  ["remove", "remove"],
  ["replace", "replace"],
]);

/**
 * Keys of a path-less value that are never written. Okta sends `replace` of `{id, displayName}`
 * on every group push; `schemas`/`meta` come along when a client echoes a resource back. The
 * bridge keeps no credentials, so `password` is dropped as in POST/PUT (coerce.ts).
 */
const IGNORED_VALUE_KEYS = new Set(["id", "schemas", "meta", "groups", "password"]);

/** Parses and validates a PATCH body into typed operations. Throws BridgeError (400 codes). */
export function normalizePatchRequest(body: unknown, resource: ResourceSchema): PatchOperation[] {
  if (!isObject(body)) throw new BridgeError("invalidSyntax", "The PATCH body must be a JSON object");
  const schemas = field(body, "schemas");
  const patchOp = PATCH_OP.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === "string" && s.toLowerCase() === patchOp)) {
    throw new BridgeError("invalidSyntax", `schemas must contain ${PATCH_OP}`);
  }
  const operations = field(body, "Operations");
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new BridgeError("invalidSyntax", "Operations must be a non-empty array");
  }
  return operations.flatMap((raw, i) => normalizeOperation(raw, `Operations[${i}]`, resource));
}

function normalizeOperation(raw: unknown, where: string, resource: ResourceSchema): PatchOperation[] {
  if (!isObject(raw)) throw new BridgeError("invalidSyntax", `${where} must be an object`);
  const opName = field(raw, "op");
  const op = typeof opName === "string" ? OP_NAMES.get(opName.trim().toLowerCase()) : undefined;
  if (op === undefined) throw new BridgeError("invalidSyntax", `${where}.op must be add, remove or replace`);
  const value = field(raw, "value");
  const rawPath = field(raw, "path");
  if (rawPath !== undefined && rawPath !== null && typeof rawPath !== "string") {
    throw new BridgeError("invalidPath", `${where}.path must be a string`);
  }
  // A blank path is treated as no path: some clients serialise an unset path as "".
  const pathText = typeof rawPath === "string" ? rawPath.trim() : "";

  if (pathText === "") {
    // RFC 7644 §3.5.2.2: remove needs a target.
    if (op === "remove") throw new BridgeError("noTarget", `${where}: remove requires a path`);
    // RFC 7644 §3.5.2.1/§3.5.2.3: without a path the value holds the attributes to add or replace.
    if (!isObject(value)) throw new BridgeError("invalidValue", `${where}: without a path, value must be an object of attributes`);
    return expandAttributes(op, value, resource);
  }
  if (op !== "remove" && value === undefined) throw new BridgeError("invalidValue", `${where}: ${op} requires a value`);

  // `path: "urn:...:enterprise:2.0:User"` targets the whole extension: same as a nested extension object.
  const extension = resource.extensions.find((e) => e.id.toLowerCase() === pathText.toLowerCase());
  if (extension) {
    if (op === "remove") {
      return extension.attributes.map((def) => ({ op, path: { text: `${extension.id}:${def.name}`, schema: extension.id, attribute: def } }));
    }
    return expandExtension(op, extension, value, resource);
  }

  // Unknown attributes in a path are an error (400 invalidPath), unlike in a value (docs/vendor-facts.md).
  const path = parsePatchPath(pathText, resource);
  if (!isWritable(path)) {
    if (isPassword(path)) return []; // No credentials are kept; drop it as POST/PUT do.
    throw new BridgeError("mutability", `${path.text} is read-only`);
  }
  return [value === undefined ? { op, path } : { op, path, value }];
}

/**
 * Expands a path-less add/replace into one operation per attribute. Keys may be plain names,
 * dotted (`name.givenName`) or URN-qualified (`urn:...:enterprise:2.0:User:employeeNumber`), which
 * Entra's aadOptscim062020 dialect sends, or a nested extension object (`{"urn:...:User": {...}}`,
 * RFC 7644 §3.5.2 example). Unknown and read-only keys are ignored, as POST and PUT ignore them.
 */
function expandAttributes(op: PatchOpName, value: JsonObject, resource: ResourceSchema): PatchOperation[] {
  const out: PatchOperation[] = [];
  for (const [key, v] of Object.entries(value)) {
    const extension = resource.extensions.find((e) => e.id.toLowerCase() === key.toLowerCase());
    if (extension) {
      out.push(...expandExtension(op, extension, v, resource));
      continue;
    }
    if (IGNORED_VALUE_KEYS.has(key.toLowerCase())) continue;
    const path = pathOfKey(key, resource);
    if (path && isWritable(path)) out.push({ op, path, value: v });
  }
  return out;
}

function expandExtension(op: PatchOpName, extension: SchemaDef, value: unknown, resource: ResourceSchema): PatchOperation[] {
  if (!isObject(value)) throw new BridgeError("invalidValue", `${extension.id} must be an object`);
  const out: PatchOperation[] = [];
  for (const [key, v] of Object.entries(value)) {
    const path = pathOfKey(`${extension.id}:${key}`, resource);
    if (path && isWritable(path)) out.push({ op, path, value: v });
  }
  return out;
}

/** The path a key of a path-less value names, or undefined when the schema does not define it. */
function pathOfKey(key: string, resource: ResourceSchema): PatchPath | undefined {
  const bracket = key.indexOf("[");
  if (bracket !== -1) {
    // A filtered key (`emails[type eq "work"].value`): unknown attribute → ignored; a malformed
    // filter on a known one is still the client's error.
    if (!resolvePath(resource, key.slice(0, bracket))) return undefined;
    return parsePatchPath(key, resource);
  }
  const resolved = resolvePath(resource, key);
  if (!resolved) return undefined;
  const { schema, attribute, sub } = resolved;
  return sub ? { text: key, schema, attribute, sub } : { text: key, schema, attribute };
}

function isWritable(path: PatchPath): boolean {
  return path.attribute.mutability !== "readOnly" && path.sub?.mutability !== "readOnly" && !isPassword(path);
}

function isPassword(path: PatchPath): boolean {
  return path.schema !== null && path.attribute.name === "password";
}

/** A member of a JSON object by case-insensitive key (Entra and Okta differ in casing); undefined when absent. */
function field(obj: JsonObject, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const [key, v] of Object.entries(obj)) if (key.toLowerCase() === lower) return v;
  return undefined;
}

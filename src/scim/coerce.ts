/**
 * Input coercion: turns what an IdP sends into the canonical stored form of a resource.
 *
 * - Attribute names match case-insensitively (RFC 7643 §2.1) and are stored with the schema's casing.
 * - Attributes the schema does not define are dropped, not rejected: Entra attribute mappings and
 *   Microsoft's own test collection send them in POST and PUT (docs/vendor-facts.md).
 * - readOnly attributes (id, meta, groups) and `password` (returned "never"; the bridge keeps no
 *   credentials) are dropped.
 * - Entra sends booleans as "True"/"False" strings and `manager` as a plain id string; both are
 *   normalised here so the rest of the code sees RFC shapes only.
 * - `schemas` must be a list of strings but its URNs are not matched against the resource type:
 *   Entra puts the non-standard http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group
 *   in Group POSTs (docs/vendor-facts.md), and an extension the bridge does not know is ignored like any
 *   other unknown attribute.
 */
import { BridgeError } from "../errors.js";
import { isObject, type Json, type JsonObject } from "../domain/json.js";
import type { AttributeDef, ResourceSchema, SchemaDef } from "./schema.js";


/** Attributes that are never written by a client, whatever the schema says. */
const IGNORED_ON_INPUT = new Set(["id", "meta", "groups", "password", "schemas"]);

export function coerceBoolean(value: unknown, where: string): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const lower = value.trim().toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
  }
  throw new BridgeError("invalidValue", `${where} must be a boolean`);
}

/**
 * Coerces one value to the attribute's type. Multi-valued attributes take an array (a single
 * element is wrapped, as several IdPs send one object where an array is meant).
 * Returns undefined when the value is null or empty, which means "no value" (RFC 7644 §3.5.1).
 */
export function coerceAttributeValue(def: AttributeDef, value: unknown, where: string): Json | undefined {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const out: Json[] = [];
    for (const [i, item] of items.entries()) {
      const v = coerceSingle(def, item, `${where}[${i}]`);
      if (v !== undefined) out.push(v);
    }
    // RFC 7643 §2.4: `primary: true` appears at most once; PATCH rejects the same (patch/apply.ts).
    if (out.filter((v) => isObject(v) && v["primary"] === true).length > 1) {
      throw new BridgeError("invalidValue", `${where}: only one value may be primary`);
    }
    return out.length === 0 ? undefined : out;
  }
  if (Array.isArray(value)) {
    // A one-element array for a single-valued attribute is a common client slip; more is an error.
    if (value.length === 1) return coerceSingle(def, value[0], where);
    throw new BridgeError("invalidValue", `${where} is single-valued but an array was sent`);
  }
  return coerceSingle(def, value, where);
}

function coerceSingle(def: AttributeDef, value: unknown, where: string): Json | undefined {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case "boolean":
      return coerceBoolean(value, where);
    case "integer": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n === "number" && Number.isInteger(n)) return n;
      throw new BridgeError("invalidValue", `${where} must be an integer`);
    }
    case "decimal": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n === "number" && Number.isFinite(n)) return n;
      throw new BridgeError("invalidValue", `${where} must be a number`);
    }
    case "dateTime": {
      if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return value;
      throw new BridgeError("invalidValue", `${where} must be an xsd:dateTime string`);
    }
    case "string":
    case "reference":
    case "binary": {
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      throw new BridgeError("invalidValue", `${where} must be a string`);
    }
    case "complex":
      return coerceComplex(def, value, where);
  }
}

function coerceComplex(def: AttributeDef, value: unknown, where: string): JsonObject | undefined {
  if (!isObject(value)) {
    // Entra sends enterprise `manager` as the manager's id alone (docs/vendor-facts.md); RFC 7643 §4.3 wants {value}.
    if (typeof value === "string" && def.subByKey.has("value")) {
      return value === "" ? undefined : { value };
    }
    throw new BridgeError("invalidValue", `${where} must be an object`);
  }
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = def.subByKey.get(key.toLowerCase());
    if (!sub) continue;
    const c = coerceAttributeValue(sub, v, `${where}.${sub.name}`);
    if (c !== undefined) out[sub.name] = c;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function coerceSchemaAttributes(schema: SchemaDef, body: JsonObject, out: JsonObject, where: string | null): void {
  for (const [key, value] of Object.entries(body)) {
    const lower = key.toLowerCase();
    if (IGNORED_ON_INPUT.has(lower)) continue;
    const def = schema.byKey.get(lower);
    if (!def || def.mutability === "readOnly") continue;
    const c = coerceAttributeValue(def, value, where ? `${where}:${def.name}` : def.name);
    if (c !== undefined) out[def.name] = c;
  }
}

/**
 * The stored attributes of a resource from a POST or PUT body: canonical names, core attributes
 * at the top level, extension attributes under their schema URN. `externalId` is kept.
 */
export function coerceResourceBody(resource: ResourceSchema, body: unknown): JsonObject {
  if (!isObject(body)) throw new BridgeError("invalidSyntax", "The request body must be a JSON object");
  const schemas = body["schemas"] ?? body["Schemas"];
  if (schemas !== undefined) {
    if (!Array.isArray(schemas) || !schemas.every((s) => typeof s === "string")) {
      throw new BridgeError("invalidSyntax", "schemas must be an array of schema URNs");
    }
  }
  const out: JsonObject = {};
  const coreBody: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    const ext = resource.extensions.find((e) => e.id.toLowerCase() === key.toLowerCase());
    if (ext) {
      if (!isObject(value)) throw new BridgeError("invalidValue", `${ext.id} must be an object`);
      const extOut: JsonObject = {};
      coerceSchemaAttributes(ext, value, extOut, ext.id);
      if (Object.keys(extOut).length > 0) out[ext.id] = extOut;
    } else if (key.toLowerCase() === "externalid") {
      if (value === null || value === undefined || value === "") continue;
      if (typeof value !== "string") throw new BridgeError("invalidValue", "externalId must be a string");
      out["externalId"] = value;
    } else {
      coreBody[key] = value as Json;
    }
  }
  coerceSchemaAttributes(resource.core, coreBody, out, null);
  return out;
}

/** Checks the attributes a resource must carry (RFC 7643 §4.1.1 userName, §4.2 displayName). */
export function requireAttributes(resource: ResourceSchema, attrs: JsonObject): void {
  for (const def of resource.core.attributes) {
    if (!def.required) continue;
    const v = attrs[def.name];
    if (v === undefined || (typeof v === "string" && v.trim() === "")) {
      throw new BridgeError("invalidValue", `${def.name} is required`);
    }
  }
}

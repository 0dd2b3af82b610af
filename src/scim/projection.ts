/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a response
 * carries. Names may be sub-attributes (`name.givenName`, `emails.value`) or URN-qualified.
 * `id` and `schemas` are returned always; `password` never (the bridge does not store it anyway).
 *
 * A name may also carry a value filter, as a PATCH path does (RFC 7644 §3.5.2): in `attributes`,
 * `emails[type eq "work"]` returns only the matching elements and `emails[type eq "work"].value`
 * only their `value`; in `excludedAttributes` the same names drop the matching elements, or that
 * sub-attribute of them, and leave the other elements as they are. RFC 7644 §3.9 names only
 * attribute names here; the filtered form is what admins' tools send, read as its PATCH meaning.
 */
import { BridgeError, isBridgeError } from "../errors.js";
import { isObject, type Json, type JsonObject } from "../domain/json.js";
import type { Filter } from "./filter/ast.js";
import { matchesElement } from "./filter/evaluate.js";
import { parsePatchPath } from "./filter/parse.js";
import { resolvePath, type ResourceSchema } from "./schema.js";

interface Selected {
  /** Key of the attribute in the resource JSON: "" for core/common (top level) or the extension URN. */
  readonly container: string;
  readonly name: string;
  readonly sub?: string;
  /** `emails[type eq "work"]`: only the elements this matches are selected. */
  readonly filter?: Filter;
}

function containerOf(resource: ResourceSchema, schema: string | null): string {
  return schema === null || schema.toLowerCase() === resource.core.id.toLowerCase() ? "" : schema;
}

/** Splits a comma-separated list, except at commas inside a value filter (`emails[value eq "a,b"]`). */
export function attributeNames(raw: string | readonly string[] | undefined): string[] {
  if (raw === undefined) return [];
  const lists = typeof raw === "string" ? [raw] : raw;
  return lists.flatMap((list) => list.split(/,(?![^[]*\])/)).map((s) => s.trim()).filter((s) => s !== "");
}

/** The attribute a name selects in `resource`, or undefined when the resource has no such attribute. */
function selectedOf(resource: ResourceSchema, name: string): Selected | undefined {
  if (!name.includes("[")) {
    const p = resolvePath(resource, name);
    return p && { container: containerOf(resource, p.schema), name: p.attribute.name, ...(p.sub ? { sub: p.sub.name } : {}) };
  }
  try {
    const p = parsePatchPath(name, resource);
    return { container: containerOf(resource, p.schema), name: p.attribute.name, ...(p.sub ? { sub: p.sub.name } : {}), ...(p.filter ? { filter: p.filter } : {}) };
  } catch (e: unknown) {
    if (isBridgeError(e)) return undefined;
    throw e;
  }
}

/** Whether `resource` defines what `name` selects (root-level search keeps the names each type defines). */
export function definesAttribute(resource: ResourceSchema, name: string): boolean {
  return selectedOf(resource, name) !== undefined;
}

function parseList(resource: ResourceSchema, raw: string | readonly string[] | undefined, param: string): Selected[] {
  return attributeNames(raw).map((name) => {
    const selected = selectedOf(resource, name);
    if (!selected) throw new BridgeError("invalidValue", `${param}: unknown attribute "${name}"`);
    return selected;
  });
}

const ALWAYS = new Set(["schemas", "id"]);

export class Projection {
  private constructor(
    private readonly include: readonly Selected[],
    private readonly exclude: readonly Selected[],
  ) {}

  static parse(
    resource: ResourceSchema,
    attributes: string | readonly string[] | undefined,
    excludedAttributes: string | readonly string[] | undefined,
  ): Projection {
    return new Projection(parseList(resource, attributes, "attributes"), parseList(resource, excludedAttributes, "excludedAttributes"));
  }

  get isDefault(): boolean {
    return this.include.length === 0 && this.exclude.length === 0;
  }

  /** Whether a top-level core attribute appears at all; lets callers skip loading it (e.g. members). */
  wants(name: string): boolean {
    if (this.include.length > 0) return this.include.some((s) => s.container === "" && s.name === name);
    return !this.exclude.some((s) => s.container === "" && s.name === name && isWhole(s));
  }

  /** Whether any attribute of an extension schema appears (lets callers skip computing it). */
  wantsSchema(urn: string): boolean {
    if (this.include.length > 0) return this.include.some((s) => s.container === urn);
    return !this.exclude.some((s) => s.container === urn && isWhole(s));
  }

  apply(resource: JsonObject): JsonObject {
    if (this.isDefault) return resource;
    return this.include.length > 0 ? this.pick(resource) : this.drop(resource);
  }

  private pick(resource: JsonObject): JsonObject {
    const out: JsonObject = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key]!;
    // Every selection of one attribute together: `emails[type eq "work"]` with `emails.value` is their union.
    const byAttribute = new Map<string, Selected[]>();
    for (const s of this.include) {
      const key = `${s.container}\u0000${s.name}`;
      byAttribute.set(key, [...(byAttribute.get(key) ?? []), s]);
    }
    for (const selections of byAttribute.values()) {
      const { container, name } = selections[0]!;
      const source = container === "" ? resource : resource[container];
      if (!isObject(source) || source[name] === undefined) continue;
      const picked = pickValue(source[name]!, selections);
      if (picked === undefined) continue;
      const target = container === "" ? out : ((out[container] ??= {}) as JsonObject);
      target[name] = picked;
    }
    return out;
  }

  private drop(resource: JsonObject): JsonObject {
    const out: JsonObject = { ...resource };
    for (const s of this.exclude) {
      if (s.container === "" && ALWAYS.has(s.name)) continue;
      if (s.container !== "") {
        const ext = out[s.container];
        if (!isObject(ext)) continue;
        out[s.container] = dropFrom({ ...ext }, s);
      } else {
        dropFrom(out, s);
      }
    }
    return out;
  }
}

/** A selection of a whole attribute, every element and sub-attribute. */
const isWhole = (s: Selected): boolean => s.sub === undefined && s.filter === undefined;

const matches = (s: Selected, element: Json): boolean => s.filter === undefined || (isObject(element) && matchesElement(s.filter, element));

/**
 * What `selections` keep of one attribute's value: for a multi-valued attribute the elements some
 * selection matches (whole, or the selected sub-attributes), none left meaning no attribute.
 */
function pickValue(value: Json, selections: readonly Selected[]): Json | undefined {
  const elements = Array.isArray(value) ? value : [value];
  const picked: Json[] = [];
  for (const element of elements) {
    const taking = selections.filter((s) => matches(s, element));
    if (taking.length === 0) continue;
    if (taking.some((s) => s.sub === undefined)) {
      picked.push(element);
      continue;
    }
    const part: JsonObject = {};
    for (const s of taking) if (isObject(element) && element[s.sub!] !== undefined) part[s.sub!] = element[s.sub!]!;
    picked.push(part);
  }
  if (!Array.isArray(value)) return picked[0];
  return picked.length === 0 ? undefined : picked;
}

function dropFrom(obj: JsonObject, s: Selected): JsonObject {
  const v = obj[s.name];
  if (isWhole(s) || v === undefined) {
    delete obj[s.name];
    return obj;
  }
  const strip = (x: Json): Json => {
    if (s.sub === undefined || !isObject(x)) return x;
    const { [s.sub]: _removed, ...rest } = x;
    return rest;
  };
  const elements = Array.isArray(v) ? v : [v];
  // A filtered name without a sub-attribute drops the matching elements; with one, that sub-attribute of them.
  const kept = s.sub === undefined ? elements.filter((x) => !matches(s, x)) : elements.map((x) => (matches(s, x) ? strip(x) : x));
  if (kept.length === 0) delete obj[s.name];
  else obj[s.name] = Array.isArray(v) ? kept : kept[0]!;
  return obj;
}

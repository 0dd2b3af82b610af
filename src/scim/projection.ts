/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a response
 * carries. Names may be sub-attributes (`name.givenName`, `emails.value`) or URN-qualified.
 * `id` and `schemas` are returned always; `password` never (the bridge does not store it anyway).
 */
import { BridgeError } from "../errors.js";
import { isObject, type Json, type JsonObject } from "../domain/json.js";
import { resolvePath, type ResolvedPath, type ResourceSchema } from "./schema.js";

interface Selected {
  /** Key of the attribute in the resource JSON: "" for core/common (top level) or the extension URN. */
  readonly container: string;
  readonly name: string;
  readonly sub?: string;
}

function containerOf(resource: ResourceSchema, p: ResolvedPath): string {
  return p.schema === null || p.schema === resource.core.id ? "" : p.schema;
}

function parseList(resource: ResourceSchema, raw: string | readonly string[] | undefined, param: string): Selected[] {
  if (raw === undefined) return [];
  const names = (typeof raw === "string" ? raw.split(",") : raw).map((s) => s.trim()).filter((s) => s !== "");
  return names.map((name) => {
    const p = resolvePath(resource, name);
    if (!p) throw new BridgeError("invalidValue", `${param}: unknown attribute "${name}"`);
    return { container: containerOf(resource, p), name: p.attribute.name, ...(p.sub ? { sub: p.sub.name } : {}) };
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
    return !this.exclude.some((s) => s.container === "" && s.name === name && s.sub === undefined);
  }

  /** Whether any attribute of an extension schema appears (lets callers skip computing it). */
  wantsSchema(urn: string): boolean {
    if (this.include.length > 0) return this.include.some((s) => s.container === urn);
    const excluded = new Set(this.exclude.filter((s) => s.container === urn && s.sub === undefined).map((s) => s.name));
    return excluded.size === 0;
  }

  apply(resource: JsonObject): JsonObject {
    if (this.isDefault) return resource;
    return this.include.length > 0 ? this.pick(resource) : this.drop(resource);
  }

  private pick(resource: JsonObject): JsonObject {
    const out: JsonObject = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(key)) out[key] = resource[key]!;
    for (const s of this.include) {
      const source = s.container === "" ? resource : resource[s.container];
      if (!isObject(source) || source[s.name] === undefined) continue;
      const target = s.container === "" ? out : ((out[s.container] ??= {}) as JsonObject);
      const value = source[s.name]!;
      if (s.sub === undefined) {
        target[s.name] = value;
      } else {
        target[s.name] = mergeSub(target[s.name], value, s.sub);
      }
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

function dropFrom(obj: JsonObject, s: Selected): JsonObject {
  if (s.sub === undefined) {
    delete obj[s.name];
    return obj;
  }
  const v = obj[s.name];
  const strip = (x: Json): Json => {
    if (!isObject(x)) return x;
    const { [s.sub!]: _removed, ...rest } = x;
    return rest;
  };
  if (Array.isArray(v)) obj[s.name] = v.map(strip);
  else if (v !== undefined) obj[s.name] = strip(v);
  return obj;
}

/** Copies one sub-attribute of `value` (complex or multi-valued complex) into what was already picked. */
function mergeSub(existing: Json | undefined, value: Json, sub: string): Json {
  if (Array.isArray(value)) {
    const prior = Array.isArray(existing) ? existing : [];
    return value.map((el, i) => {
      const base = isObject(prior[i]) ? (prior[i] as JsonObject) : {};
      return isObject(el) && el[sub] !== undefined ? { ...base, [sub]: el[sub]! } : base;
    });
  }
  const base = isObject(existing) ? existing : {};
  return isObject(value) && value[sub] !== undefined ? { ...base, [sub]: value[sub]! } : base;
}

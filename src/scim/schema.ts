/**
 * SCIM schema metadata: the single source of attribute characteristics (type, caseExact,
 * mutability, returned, multiValued) for validation, filtering, PATCH paths and projection.
 *
 * The definitions come from scimmy's RFC 7643 §4 / §8.7 schema descriptions, so the
 * /Schemas discovery document and our behaviour cannot drift apart. The common attributes
 * (id, externalId, meta) are RFC 7643 §3.1 and are not part of any schema document.
 */
import SCIMMY from "scimmy";
import accessExtensionDocument from "../../schemas/access-extension.json" with { type: "json" };

export const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

export type AttributeType =
  | "string"
  | "boolean"
  | "decimal"
  | "integer"
  | "dateTime"
  | "binary"
  | "reference"
  | "complex";

export interface AttributeDef {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly required: boolean;
  readonly caseExact: boolean;
  readonly mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  readonly returned: "always" | "never" | "default" | "request";
  readonly uniqueness: "none" | "server" | "global";
  readonly subAttributes: readonly AttributeDef[];
  /** Lower-cased sub-attribute name → definition (SCIM names are case-insensitive, RFC 7643 §2.1). */
  readonly subByKey: ReadonlyMap<string, AttributeDef>;
}

export interface SchemaDef {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly attributes: readonly AttributeDef[];
  readonly byKey: ReadonlyMap<string, AttributeDef>;
  /** The RFC 7643 §7 document served at /Schemas/{id}. */
  readonly document: Record<string, unknown>;
}

export type ResourceTypeName = "User" | "Group";

export interface ResourceSchema {
  readonly name: ResourceTypeName;
  readonly endpoint: "/Users" | "/Groups";
  readonly core: SchemaDef;
  readonly extensions: readonly SchemaDef[];
}

/** Where a path resolved: the schema it belongs to, its top-level attribute, and maybe a sub-attribute. */
export interface ResolvedPath {
  /** URN of the schema; `null` for the common attributes id, externalId and meta. */
  readonly schema: string | null;
  readonly attribute: AttributeDef;
  readonly sub?: AttributeDef;
}

interface Described {
  name: string;
  type: AttributeType;
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: AttributeDef["mutability"];
  returned?: AttributeDef["returned"];
  uniqueness?: AttributeDef["uniqueness"];
  subAttributes?: Described[];
}

function toDef(d: Described): AttributeDef {
  const subAttributes = (d.subAttributes ?? []).map(toDef);
  return {
    name: d.name,
    type: d.type,
    multiValued: d.multiValued ?? false,
    required: d.required ?? false,
    caseExact: d.caseExact ?? false,
    mutability: d.mutability ?? "readWrite",
    returned: d.returned ?? "default",
    uniqueness: d.uniqueness ?? "none",
    subAttributes,
    subByKey: new Map(subAttributes.map((s) => [s.name.toLowerCase(), s])),
  };
}

type DescribedSchema = Record<string, unknown> & { id: string; name: string; description: string; attributes: Described[] };

interface ScimmySchemaClass {
  definition: { describe(): DescribedSchema };
}

function schemaFromScimmy(cls: ScimmySchemaClass): SchemaDef {
  // describe() returns scimmy Attribute instances whose RFC form only exists through toJSON();
  // a JSON round trip gives the plain RFC 7643 §7 document.
  return schemaFromDocument(JSON.parse(JSON.stringify(cls.definition.describe())) as DescribedSchema);
}

function schemaFromDocument(raw: DescribedSchema): SchemaDef {
  const { meta: _meta, ...document } = raw;
  const attributes = document.attributes.map(toDef);
  return {
    id: document.id,
    name: document.name,
    description: document.description,
    attributes,
    byKey: new Map(attributes.map((a) => [a.name.toLowerCase(), a])),
    document,
  };
}

// scimmy's .d.ts types the schema classes loosely; the runtime shape is what describe() returns.
const scimmySchemas = SCIMMY.Schemas as unknown as Record<"User" | "Group" | "EnterpriseUser", ScimmySchemaClass>;

export const userSchema = schemaFromScimmy(scimmySchemas.User);
export const groupSchema = schemaFromScimmy(scimmySchemas.Group);
export const enterpriseUserSchema = schemaFromScimmy(scimmySchemas.EnterpriseUser);

/** The bridge's read-only extension (schemas/access-extension.json): per-app state from the identity map. */
export const ACCESS_EXTENSION = "urn:scim-bridge:schemas:extension:access:2.0:User";
export const accessExtensionSchema = schemaFromDocument(accessExtensionDocument as unknown as DescribedSchema);

const commonAttributes: readonly AttributeDef[] = [
  toDef({ name: "id", type: "string", caseExact: true, mutability: "readOnly", returned: "always", uniqueness: "server" }),
  toDef({ name: "externalId", type: "string", caseExact: true }),
  toDef({
    name: "meta",
    type: "complex",
    mutability: "readOnly",
    subAttributes: [
      { name: "resourceType", type: "string", caseExact: true, mutability: "readOnly" },
      { name: "created", type: "dateTime", mutability: "readOnly" },
      { name: "lastModified", type: "dateTime", mutability: "readOnly" },
      { name: "location", type: "reference", caseExact: true, mutability: "readOnly" },
      { name: "version", type: "string", caseExact: true, mutability: "readOnly" },
    ],
  }),
];
const commonByKey = new Map(commonAttributes.map((a) => [a.name.toLowerCase(), a]));

export const userResource: ResourceSchema = {
  name: "User",
  endpoint: "/Users",
  core: userSchema,
  extensions: [enterpriseUserSchema, accessExtensionSchema],
};

export const groupResource: ResourceSchema = {
  name: "Group",
  endpoint: "/Groups",
  core: groupSchema,
  extensions: [],
};

export const resourceSchemas: readonly ResourceSchema[] = [userResource, groupResource];

/** The attribute named `name` at the top level of a resource, common attributes included. */
export function topLevelAttribute(resource: ResourceSchema, schemaUrn: string | null, name: string): ResolvedPath | undefined {
  const key = name.toLowerCase();
  if (schemaUrn === null || schemaUrn.toLowerCase() === resource.core.id.toLowerCase()) {
    const common = commonByKey.get(key);
    if (common) return { schema: null, attribute: common };
    const core = resource.core.byKey.get(key);
    if (core) return { schema: resource.core.id, attribute: core };
    if (schemaUrn !== null) return undefined;
  }
  for (const ext of resource.extensions) {
    if (schemaUrn !== null && schemaUrn.toLowerCase() !== ext.id.toLowerCase()) continue;
    const found = ext.byKey.get(key);
    if (found) return { schema: ext.id, attribute: found };
  }
  return undefined;
}

/** The schema URN (core or extension) that `text` starts with, matched case-insensitively. */
export function schemaPrefix(resource: ResourceSchema, text: string): string | undefined {
  const lower = text.toLowerCase();
  for (const s of [resource.core, ...resource.extensions]) {
    const id = s.id.toLowerCase();
    if (lower === id || lower.startsWith(`${id}:`)) return s.id;
  }
  return undefined;
}

/**
 * Resolves an attribute path such as `userName`, `name.familyName`, `emails.value`,
 * `meta.lastModified` or a URN-qualified one like
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`
 * (RFC 7644 §3.10). Returns undefined for anything the schema does not define.
 */
export function resolvePath(resource: ResourceSchema, path: string): ResolvedPath | undefined {
  let rest = path;
  let urn: string | null = null;
  const prefix = schemaPrefix(resource, path);
  if (prefix) {
    urn = prefix;
    rest = path.slice(prefix.length + 1);
    if (rest === "") return undefined;
  }
  const dot = rest.indexOf(".");
  const top = dot === -1 ? rest : rest.slice(0, dot);
  const resolved = topLevelAttribute(resource, urn, top);
  if (!resolved) return undefined;
  if (dot === -1) return resolved;
  const sub = resolved.attribute.subByKey.get(rest.slice(dot + 1).toLowerCase());
  return sub ? { ...resolved, sub } : undefined;
}

/** The attribute definition a resolved path points at (the sub-attribute when there is one). */
export function leafOf(path: ResolvedPath): AttributeDef {
  return path.sub ?? path.attribute;
}

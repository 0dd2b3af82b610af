/**
 * The parsed forms of SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).
 * Attribute references are resolved against the resource schema at parse time, so inner code
 * (SQL translation, in-memory evaluation, PATCH) never meets an unknown attribute.
 */
import type { AttributeDef, ResolvedPath } from "../schema.js";

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
export type Literal = string | number | boolean | null;

/**
 * A resolved attribute reference. Inside a valuePath filter (`emails[type eq "work"]`), `resolved`
 * names the multi-valued parent as `attribute` and the compared sub-attribute as `sub`.
 */
export interface AttrRef {
  readonly text: string;
  readonly resolved: ResolvedPath;
}

export type Filter =
  | { readonly kind: "compare"; readonly attr: AttrRef; readonly op: CompareOp; readonly value: Literal }
  | { readonly kind: "present"; readonly attr: AttrRef }
  | { readonly kind: "and" | "or"; readonly left: Filter; readonly right: Filter }
  | { readonly kind: "not"; readonly operand: Filter }
  /** `emails[type eq "work" and primary eq true]`: some element of the multi-valued `attr` matches `filter`. */
  | { readonly kind: "valuePath"; readonly attr: AttrRef; readonly filter: Filter };

/**
 * A PATCH path: `name.givenName` → {attribute: name, sub: givenName};
 * `members[value eq "x"]` → {attribute: members, filter};
 * `emails[type eq "work"].value` → {attribute: emails, filter, sub: value};
 * `urn:...:enterprise:2.0:User:manager` → {schema: enterprise URN, attribute: manager}.
 */
export interface PatchPath {
  readonly text: string;
  /** URN of the schema holding `attribute`; null for id, externalId, meta. */
  readonly schema: string | null;
  readonly attribute: AttributeDef;
  readonly filter?: Filter;
  readonly sub?: AttributeDef;
}

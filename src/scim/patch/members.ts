/**
 * Group `members` in PATCH: members are rows, not attributes, so every operation on them becomes a
 * MemberOp that the caller applies in order as row inserts and deletes (cost independent of
 * group size).
 */
import { BridgeError } from "../../errors.js";
import { isObject } from "../../domain/json.js";
import type { Filter, PatchPath } from "../filter/ast.js";
import type { ResourceSchema } from "../schema.js";
import type { PatchOperation } from "./normalize.js";

/** Member ids as sent, with the `display` the client gave for some of them (kept as sent, RFC 7643 §4.2). */
export interface MemberList {
  readonly ids: readonly string[];
  readonly displays?: Readonly<Record<string, string>>;
}

export type MemberOp =
  | ({ readonly kind: "add" } & MemberList)
  | { readonly kind: "remove"; readonly ids: readonly string[] }
  | { readonly kind: "removeAll" }
  | ({ readonly kind: "replaceAll" } & MemberList)
  /** `members[<filter>]` that is not a plain `value eq "id"`: remove every member the filter matches. */
  | { readonly kind: "removeMatching"; readonly filter: Filter };

export function isMembers(resource: ResourceSchema, path: PatchPath): boolean {
  return (
    resource.name === "Group" &&
    path.attribute.name === "members" &&
    path.schema?.toLowerCase() === resource.core.id.toLowerCase()
  );
}

export function toMemberOp(op: PatchOperation): MemberOp | undefined {
  const { path } = op;
  if (path.sub) throw new BridgeError("invalidPath", `${path.text}: patch members or members[value eq "id"], not a member's sub-attribute`);
  if (path.filter) {
    // Okta and Entra (aadOptscim062020) remove one member with `members[value eq "id"]`.
    if (op.op !== "remove") throw new BridgeError("invalidPath", `${path.text}: only remove takes a members filter`);
    const ids = idsOf(path.filter);
    return ids ? { kind: "remove", ids } : { kind: "removeMatching", filter: path.filter };
  }
  switch (op.op) {
    case "add": {
      const members = memberList(op.value, path.text);
      return members.ids.length === 0 ? undefined : { kind: "add", ...members };
    }
    case "replace":
      // Okta's "replace all members", including with [] (RFC 7644 §3.5.2.3).
      return { kind: "replaceAll", ...memberList(op.value, path.text) };
    case "remove": {
      // RFC 7644 §3.5.2.2: path `members` with no value removes them all.
      if (op.value === undefined || op.value === null) return { kind: "removeAll" };
      // Entra's default dialect: {"op":"Remove","path":"members","value":[{"$ref":null,"value":"id"}]}.
      // An empty array removes nothing (never "all": a wiped group is the costliest mistake here).
      const { ids } = memberList(op.value, path.text);
      return ids.length === 0 ? undefined : { kind: "remove", ids };
    }
  }
}

/** The ids of `value eq "id"` (or several joined by `or`); undefined for any other filter. */
function idsOf(filter: Filter): string[] | undefined {
  if (filter.kind === "compare") {
    const isValue = filter.attr.resolved.sub?.name === "value";
    return isValue && filter.op === "eq" && typeof filter.value === "string" ? [filter.value] : undefined;
  }
  if (filter.kind === "or") {
    const left = idsOf(filter.left);
    const right = idsOf(filter.right);
    return left && right ? [...new Set([...left, ...right])] : undefined;
  }
  return undefined;
}

/**
 * Members from `[{value: "id", display: "…"}]` (one bare object is accepted too); `$ref` and `type`
 * are ignored. A `display` string is kept as the client sent it; without one it is derived on read.
 */
export function memberList(value: unknown, where: string): MemberList {
  if (value === undefined || value === null) return { ids: [] };
  const items: unknown[] = Array.isArray(value) ? value : [value];
  const displays: Record<string, string> = {};
  const ids = items.map((item, i) => {
    const field = (name: string) => (isObject(item) ? Object.entries(item).find(([key]) => key.toLowerCase() === name)?.[1] : undefined);
    const id = field("value");
    if (typeof id !== "string" || id.trim() === "") {
      throw new BridgeError("invalidValue", `${where}[${i}].value must be a member id string`);
    }
    const display = field("display");
    if (typeof display === "string" && display !== "") displays[id] = display;
    return id;
  });
  return Object.keys(displays).length === 0 ? { ids: [...new Set(ids)] } : { ids: [...new Set(ids)], displays };
}

/**
 * Hand-written recursive-descent parser for SCIM filters (RFC 7644 §3.4.2.2) and
 * PATCH paths (RFC 7644 §3.5.2). Attribute names are resolved against the resource schema and
 * literals are checked against the attribute's type here, at the edge, so the SQL translation and
 * the in-memory evaluator only ever see well-typed filters over known attributes.
 *
 * Grammar (case-insensitive keywords and attribute names, RFC 7643 §2.1):
 *   filter    = or
 *   or        = and *("or" and)             ; "and" binds tighter than "or"
 *   and       = unary *("and" unary)
 *   unary     = "not" "(" or ")" / "(" or ")" / attrExp / valuePath
 *   valuePath = attrPath "[" valFilter "]" [ "." subAttr (("pr") / (compareOp compValue)) ]
 *   attrExp   = attrPath "pr" / attrPath compareOp compValue
 */
import { BridgeError } from "../../errors.js";
import {
  ACCESS_EXTENSION,
  resolvePath,
  type AttributeDef,
  type ResolvedPath,
  type ResourceSchema,
} from "../schema.js";
import type { AttrRef, CompareOp, Filter, Literal, PatchPath } from "./ast.js";
import { COMPARE_OPS, describe, isKeyword, isLiteralWord, literalOf, tokenize, type Token, type TokenKind } from "./tokenize.js";

/** Longer filters are refused: real IdP filters are well under 1 KB; this bounds parse and SQL cost. */
export const MAX_FILTER_LENGTH = 10_000;
/** Bound on nested parentheses, `not` and value filters, so hostile input cannot exhaust the stack. */
export const MAX_NESTING_DEPTH = 50;

const ORDERING_OPS: ReadonlySet<CompareOp> = new Set(["gt", "ge", "lt", "le"]);
const SUBSTRING_OPS: ReadonlySet<CompareOp> = new Set(["co", "sw", "ew"]);

type ErrorCode = "invalidFilter" | "invalidPath";

/** Scope of attribute names: the resource, or the sub-attributes of a value filter's parent. */
type Scope = { readonly kind: "resource" } | { readonly kind: "element"; readonly parent: ResolvedPath };

const RESOURCE_SCOPE: Scope = { kind: "resource" };

export function parseFilter(text: string, resource: ResourceSchema): Filter {
  const p = new Parser(text, resource, "invalidFilter");
  const filter = p.parseOr(RESOURCE_SCOPE);
  p.expectEnd();
  return filter;
}

/**
 * PATH = attrPath / valuePath [subAttr] (RFC 7644 §3.5.2), e.g. `name.givenName`,
 * `members[value eq "x"]`, `emails[type eq "work"].value`, `urn:...:enterprise:2.0:User:manager`.
 * `filter`, when present, is the value filter to run per element with matchesElement().
 */
export function parsePatchPath(text: string, resource: ResourceSchema): PatchPath {
  const p = new Parser(text, resource, "invalidPath");
  const path = p.parsePath();
  p.expectEnd();
  return path;
}

class Parser {
  private readonly tokens: readonly Token[];
  private index = 0;
  private depth = 0;
  private readonly label: string;

  constructor(
    private readonly text: string,
    private readonly resource: ResourceSchema,
    private readonly code: ErrorCode,
  ) {
    this.label = code === "invalidFilter" ? "filter" : "path";
    if (text.length > MAX_FILTER_LENGTH) {
      throw this.fail(`is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH}`);
    }
    this.tokens = tokenize(text, (message, pos) => this.fail(message, pos));
    if (this.peek().kind === "end") throw this.fail("is empty");
  }

  // ---- filters ------------------------------------------------------------------------------

  parseOr(scope: Scope): Filter {
    const terms = [this.parseAnd(scope)];
    while (this.peekKeyword("or")) {
      this.index++;
      terms.push(this.parseAnd(scope));
    }
    return balanced("or", terms);
  }

  private parseAnd(scope: Scope): Filter {
    const terms = [this.parseUnary(scope)];
    while (this.peekKeyword("and")) {
      this.index++;
      terms.push(this.parseUnary(scope));
    }
    return balanced("and", terms);
  }

  private parseUnary(scope: Scope): Filter {
    const t = this.peek();
    if (this.peekKeyword("not")) {
      this.index++;
      // RFC 7644 §3.4.2.2: not takes a parenthesised filter ("not" "(" valFilter ")").
      if (this.peek().kind !== "(") throw this.fail(`expected "(" after "not"`, this.peek().pos);
      return { kind: "not", operand: this.parseGroup(scope) };
    }
    if (t.kind === "(") return this.parseGroup(scope);
    return this.parseAttrExp(scope);
  }

  private parseGroup(scope: Scope): Filter {
    const open = this.next();
    this.enter(open.pos);
    const inner = this.parseOr(scope);
    this.expect(")", `to close the "(" at position ${open.pos}`);
    this.depth--;
    return inner;
  }

  private parseAttrExp(scope: Scope): Filter {
    const t = this.next();
    if (t.kind !== "word" || t.text.startsWith(".") || isKeyword(t.text)) {
      throw this.fail(`expected an attribute name, found ${describe(t)}`, t.pos);
    }
    const resolved = this.resolveAttribute(t, scope);
    const attr: AttrRef = { text: t.text, resolved };
    if (this.peek().kind === "[") {
      if (scope.kind === "element") throw this.fail("value filters cannot be nested", this.peek().pos);
      return this.parseValuePathFilter(attr, t);
    }
    return this.parseOperation(attr, t);
  }

  /** `emails[type eq "work"]`, and Entra's `emails[type eq "work"].value eq "x"` as one element test. */
  private parseValuePathFilter(attr: AttrRef, at: Token): Filter {
    const inner = this.parseBracket(attr, at);
    const dot = this.peek();
    if (dot.kind !== "word" || !dot.text.startsWith(".")) return { kind: "valuePath", attr, filter: inner };
    this.index++;
    const sub = this.subAttribute(attr.resolved, dot.text.slice(1), dot);
    const subRef: AttrRef = { text: dot.text.slice(1), resolved: { ...attr.resolved, sub } };
    const test = this.parseOperation(subRef, dot);
    return { kind: "valuePath", attr, filter: { kind: "and", left: inner, right: test } };
  }

  private parseBracket(attr: AttrRef, at: Token): Filter {
    const { attribute, sub } = attr.resolved;
    if (sub !== undefined || attribute.type !== "complex") {
      throw this.fail(`"${at.text}" is not a complex attribute, so it cannot take a value filter`, at.pos);
    }
    const open = this.next();
    this.enter(open.pos);
    const inner = this.parseOr({ kind: "element", parent: attr.resolved });
    this.expect("]", `to close the "[" at position ${open.pos}`);
    this.depth--;
    return inner;
  }

  private parseOperation(attr: AttrRef, at: Token): Filter {
    const opToken = this.next();
    const op = opToken.kind === "word" ? opToken.text.toLowerCase() : "";
    if (op === "pr") {
      const after = this.peek();
      if (after.kind === "string" || after.kind === "number" || isLiteralWord(after)) {
        throw this.fail(`"pr" takes no value, found ${describe(after)}`, after.pos);
      }
      return { kind: "present", attr };
    }
    if (!COMPARE_OPS.has(op)) {
      throw this.fail(`expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after "${at.text}", found ${describe(opToken)}`, opToken.pos);
    }
    const valueToken = this.next();
    return this.comparison(attr, op as CompareOp, valueToken, opToken);
  }

  /** Checks a comparison against the attribute's type (RFC 7644 §3.4.2.2) and normalises the literal. */
  private comparison(attr: AttrRef, op: CompareOp, token: Token, opToken: Token): Filter {
    let literal = literalOf(token);
    if (literal === undefined) literal = unquotedValue(token);
    if (literal === undefined) {
      const hint = token.kind === "word" ? ` (write a value that is a keyword in quotes: "${token.text}")` : "";
      throw this.fail(`expected a value after "${opToken.text}", found ${describe(token)}${hint}`, token.pos);
    }
    if (literal === null) {
      // RFC 7643 §2.5: null and unassigned are the same state, so `eq null` means "not present".
      if (op === "eq") return { kind: "not", operand: { kind: "present", attr } };
      if (op === "ne") return { kind: "present", attr };
      throw this.fail(`null can only be compared with eq or ne`, token.pos);
    }
    const ref = this.comparable(attr, token);
    const def = ref.resolved.sub ?? ref.resolved.attribute;
    if (ORDERING_OPS.has(op) && (def.type === "boolean" || def.type === "binary")) {
      throw this.fail(`"${op}" cannot be used on the ${def.type} attribute "${attr.text}"`, opToken.pos);
    }
    if (SUBSTRING_OPS.has(op) && !isStringType(def)) {
      throw this.fail(`"${op}" cannot be used on the ${def.type} attribute "${attr.text}"`, opToken.pos);
    }
    return { kind: "compare", attr: ref, op, value: this.typedLiteral(def, literal, token) };
  }

  /** A multi-valued complex attribute compared directly compares its `value` (RFC 7644 §3.4.2.2). */
  private comparable(attr: AttrRef, at: Token): AttrRef {
    const { attribute, sub } = attr.resolved;
    if (sub !== undefined || attribute.type !== "complex") return attr;
    const value = attribute.subByKey.get("value");
    if (value) return { text: attr.text, resolved: { ...attr.resolved, sub: value } };
    throw this.fail(`"${attr.text}" is a complex attribute; compare one of its sub-attributes instead`, at.pos);
  }

  private typedLiteral(def: AttributeDef, literal: string | number | boolean, token: Token): Literal {
    switch (def.type) {
      case "boolean": {
        if (typeof literal === "boolean") return literal;
        // Entra sends booleans as "True"/"False" strings everywhere else too (coerce.ts).
        const lower = typeof literal === "string" ? literal.toLowerCase() : "";
        if (lower === "true" || lower === "false") return lower === "true";
        break;
      }
      case "integer":
      case "decimal":
        if (typeof literal === "number") return literal;
        break;
      case "dateTime": {
        // Stored dateTimes are toISOString() output, so one canonical form compares as a string.
        const ms = typeof literal === "string" ? Date.parse(literal) : Number.NaN;
        if (!Number.isNaN(ms)) return new Date(ms).toISOString();
        throw this.fail(`${describe(token)} is not a valid xsd:dateTime`, token.pos);
      }
      case "string":
      case "reference":
      case "binary":
        // As on input (coerce.ts), a bare number or boolean for a string attribute means its text.
        if (typeof literal === "string") return literal;
        return token.kind === "number" ? token.text : String(literal);
      case "complex":
        break;
    }
    throw this.fail(`${describe(token)} is not a valid ${def.type} value for "${def.name}"`, token.pos);
  }

  // ---- PATCH paths --------------------------------------------------------------------------

  parsePath(): PatchPath {
    const t = this.next();
    if (t.kind !== "word" || t.text.startsWith(".")) throw this.fail(`expected an attribute path, found ${describe(t)}`, t.pos);
    const resolved = this.resolveAttribute(t, RESOURCE_SCOPE);
    if (this.peek().kind !== "[") {
      return { text: this.text, schema: resolved.schema, attribute: resolved.attribute, ...(resolved.sub ? { sub: resolved.sub } : {}) };
    }
    const filter = this.parseBracket({ text: t.text, resolved }, t);
    const dot = this.peek();
    let sub: AttributeDef | undefined;
    if (dot.kind === "word" && dot.text.startsWith(".")) {
      this.index++;
      sub = this.subAttribute(resolved, dot.text.slice(1), dot);
    }
    return { text: this.text, schema: resolved.schema, attribute: resolved.attribute, filter, ...(sub ? { sub } : {}) };
  }

  // ---- helpers ------------------------------------------------------------------------------

  private resolveAttribute(t: Token, scope: Scope): ResolvedPath {
    if (scope.kind === "element") {
      return { ...scope.parent, sub: this.subAttribute(scope.parent, t.text, t) };
    }
    const resolved = resolvePath(this.resource, t.text);
    if (!resolved) throw this.fail(`unknown attribute "${t.text}" for ${this.resource.name}`, t.pos);
    // The access extension is computed from the identity map, not stored with the user.
    if (resolved.schema === ACCESS_EXTENSION) throw this.fail(`"${t.text}" is computed by the bridge and cannot be filtered on`, t.pos);
    return resolved;
  }

  private subAttribute(parent: ResolvedPath, name: string, t: Token): AttributeDef {
    const sub = parent.attribute.subByKey.get(name.toLowerCase());
    if (!sub) throw this.fail(`"${parent.attribute.name}" has no sub-attribute "${name}"`, t.pos);
    return sub;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_NESTING_DEPTH) throw this.fail(`is nested more than ${MAX_NESTING_DEPTH} levels deep`, pos);
  }

  private peek(): Token {
    // tokenize() always ends the list with an "end" token, and index never passes it.
    return this.tokens[Math.min(this.index, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "end") this.index++;
    return t;
  }

  private peekKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === "word" && t.text.toLowerCase() === word;
  }

  private expect(kind: TokenKind, why: string): void {
    const t = this.next();
    if (t.kind !== kind) throw this.fail(`expected "${kind}" ${why}, found ${describe(t)}`, t.pos);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== "end") throw this.fail(`unexpected ${describe(t)}`, t.pos);
  }

  private fail(message: string, pos?: number): BridgeError {
    const where = pos === undefined ? "" : ` at position ${pos}`;
    return new BridgeError(this.code, `Invalid ${this.label}: ${message}${where}`);
  }
}

/** Builds `kind` over terms as a balanced tree, so 1,000 `or`s stay shallow for SQLite and the evaluator. */
function balanced(kind: "and" | "or", terms: readonly Filter[]): Filter {
  if (terms.length === 1) return terms[0] as Filter;
  const mid = Math.ceil(terms.length / 2);
  return { kind, left: balanced(kind, terms.slice(0, mid)), right: balanced(kind, terms.slice(mid)) };
}

function isStringType(def: AttributeDef): boolean {
  return def.type === "string" || def.type === "reference" || def.type === "binary";
}

/**
 * A compare value written without quotes (`userName sw O`, `meta.created gt 2015-10-10T14:38:21Z`),
 * which RFC 7644 §3.4.2.2 requires quoted but lenient servers read as the string it spells; the
 * attribute's type then reads it (a dateTime as a date). Keywords stay keywords: `title eq and`
 * is more likely a filter with its value missing than a title "and".
 */
function unquotedValue(token: Token): string | undefined {
  return token.kind === "word" && !isKeyword(token.text) ? token.text : undefined;
}

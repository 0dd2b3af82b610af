/**
 * Tokens of SCIM filters and PATCH paths (RFC 7644 §3.4.2.2): attribute paths and keywords as
 * words, JSON string and number literals, brackets and parentheses.
 */
import type { BridgeError } from "../../errors.js";

export const COMPARE_OPS: ReadonlySet<string> = new Set(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);

export type TokenKind = "word" | "string" | "number" | "(" | ")" | "[" | "]" | "end";

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token (for strings: including the quotes). */
  readonly text: string;
  readonly pos: number;
  /** Decoded value of a string or number literal. */
  readonly value?: string | number;
}


const KEYWORDS: ReadonlySet<string> = new Set(["and", "or", "not", "pr", "true", "false", "null", ...COMPARE_OPS]);

export function isKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase());
}

export function isLiteralWord(t: Token): boolean {
  return t.kind === "word" && ["true", "false", "null"].includes(t.text.toLowerCase());
}

/** compValue = false / null / true / number / string (RFC 7644 §3.4.2.2); true/false in any case. */
export function literalOf(t: Token): string | number | boolean | null | undefined {
  if (t.kind === "string" || t.kind === "number") return t.value;
  if (t.kind !== "word") return undefined;
  const lower = t.text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (lower === "null") return null;
  return undefined;
}

export function describe(t: Token): string {
  if (t.kind === "end") return "the end of the input";
  if (t.kind === "word") return `"${t.text}"`;
  if (t.kind === "string") return `the string ${t.text}`;
  if (t.kind === "number") return `the number ${t.text}`;
  return `"${t.kind}"`;
}

/**
 * Attribute paths: ATTRNAME chars plus ":" and "." for URNs and sub-attributes, "$" for $ref.
 * Also what lenient clients write unquoted as a compare value (`userName eq bjensen@example.com`,
 * `meta.created gt 2015-10-10T14:38:21+02:00`, `familyName eq O'Malley`), read as one word.
 */
const WORD_CHAR = /[A-Za-z0-9_$:.@+'/-]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

export type Fail = (message: string, pos: number) => BridgeError;

export function tokenize(text: string, fail: Fail): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const number = c === "-" || (c >= "0" && c <= "9") ? wholeNumberAt(text, i) : undefined;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === "[" || c === "]") {
      tokens.push({ kind: c as "(" | ")" | "[" | "]", text: c, pos: i });
      i++;
    } else if (c === '"') {
      const token = stringToken(text, i, fail);
      tokens.push(token);
      i += token.text.length;
    } else if (number !== undefined) {
      tokens.push({ kind: "number", text: number, pos: i, value: Number(number) });
      i += number.length;
    } else if (WORD_CHAR.test(c)) {
      // Includes what starts like a number and goes on (an unquoted dateTime `2015-10-10T14:38:21Z`, an id `2819c223-…`).
      const start = i;
      while (i < text.length && WORD_CHAR.test(text.charAt(i))) i++;
      tokens.push({ kind: "word", text: text.slice(start, i), pos: start });
    } else {
      throw fail(`unexpected character ${JSON.stringify(c)}`, i);
    }
  }
  tokens.push({ kind: "end", text: "", pos: text.length });
  return tokens;
}

/** The JSON number at `start` when it is the whole word there: `2015`, but not the start of `2015-10-10T…`. */
function wholeNumberAt(text: string, start: number): string | undefined {
  NUMBER.lastIndex = start;
  const m = NUMBER.exec(text);
  return m !== null && !WORD_CHAR.test(text.charAt(start + m[0].length)) ? m[0] : undefined;
}

/** A JSON string literal (RFC 8259 §7), escapes included; decoding is left to JSON.parse. */
function stringToken(text: string, start: number, fail: Fail): Token {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === "\\") {
      i += 2;
    } else if (c === '"') {
      const raw = text.slice(start, i + 1);
      let value: string;
      try {
        value = JSON.parse(raw) as string;
      } catch (e: unknown) {
        throw fail(`malformed string literal ${raw} (${e instanceof Error ? e.message : String(e)})`, start);
      }
      // Half a character (`"\ud800"`): a PATCH value filter would store it, and UTF-8 cannot (RFC 8259 §8.2).
      if (/\p{Surrogate}/u.test(value)) throw fail(`string literal ${raw} has an unpaired surrogate`, start);
      return { kind: "string", text: raw, pos: start, value };
    } else {
      i++;
    }
  }
  throw fail(`unterminated string`, start);
}

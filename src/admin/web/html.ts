/**
 * HTML with every interpolation escaped. `html` is a tagged template: literal parts are trusted
 * (they are our own source), every `${value}` is escaped unless it is already SafeHtml (the result
 * of another `html` call). Arrays are joined, so `${tasks.map(card)}` renders a list; null,
 * undefined and false render nothing, so `${cond && html`…`}` works.
 *
 * Escaping covers text and quoted attribute values (OWASP XSS cheat sheet, rule #1 and #2): & < > " '
 * and the backtick (old IE treated it as an attribute quote). It does not make a URL safe: hrefs
 * are only ever built from our own paths with encodeURIComponent (see `path` below).
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false || value === true) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly Interpolation[]).map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly Interpolation[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** A path under /admin with each dynamic segment percent-encoded: `path("users", id)` → /admin/users/a%2Fb. */
export function path(...segments: readonly (string | number)[]): string {
  return ["/admin", ...segments.map((s) => encodeURIComponent(String(s)))].join("/");
}

/**
 * Where long machine text may break on a narrow screen: after the dots of an action name
 * (`task.cancelled`) and after the "@" and dots of an email, so a line ends where a reader
 * expects (a <wbr> is an optional break; copying the text copies no extra character).
 */
import { escapeHtml, html, SafeHtml } from "./html.js";

/** `task.completed` → `task.<wbr>completed`, escaped. */
export function breakAfterDots(text: string): SafeHtml {
  return new SafeHtml(text.split(".").map(escapeHtml).join(".<wbr>"));
}

/** An email that breaks after "@" and its dots, and anywhere as a last resort (CSS .email). */
export function email(address: string): SafeHtml {
  const at = address.lastIndexOf("@");
  const broken = at < 0 ? breakAfterDots(address) : new SafeHtml(`${breakAfterDots(address.slice(0, at)).value}@<wbr>${breakAfterDots(address.slice(at + 1)).value}`);
  return html`<span class="email">${broken}</span>`;
}

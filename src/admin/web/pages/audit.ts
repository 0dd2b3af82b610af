/**
 * Recent audit events, newest first: when, who, what, on whom (by name, linked to the user page),
 * what changed in words (audit-summary.ts), and the raw before and after one click away.
 */
import type { AuditRow } from "../../../db/audit.js";
import { changeSummary } from "../audit-summary.js";
import { html, path, type SafeHtml } from "../html.js";
import { breakAfterDots } from "../line-breaks.js";
import { layout, type Viewer } from "../layout.js";
import { ago, utc } from "../time-format.js";

/** How an event's resource is named to a person, and the user it concerns (for a link). */
export interface AuditResource {
  readonly text: string;
  readonly userId: string | null;
}

export interface AuditData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly events: readonly AuditRow[];
  /** By event seq; events without an entry show their type and id. */
  readonly resources: ReadonlyMap<number, AuditResource>;
  readonly limit: number;
}

function resource(e: AuditRow, r: AuditResource | undefined): SafeHtml {
  const type = html`<span class="muted">${e.resourceType}</span>`;
  if (!r) return html`${type}${e.resourceId !== null && html`<br><code>${e.resourceId}</code>`}`;
  return html`${type}<br>${r.userId === null ? r.text : html`<a href="${path("users", r.userId)}">${r.text}</a>`}`;
}

function summary(e: AuditRow): SafeHtml {
  const lines = changeSummary(e.before, e.after);
  if (lines.length === 0) return html``;
  return html`<ul class="change-summary">${lines.map((l) => html`<li>${l}</li>`)}</ul>`;
}

function details(e: AuditRow): SafeHtml {
  return html`<details><summary>Raw JSON of event ${e.seq}</summary>
    <p class="muted">Resource <code>${e.resourceType}/${e.resourceId ?? "-"}</code>${e.requestId !== null && html`, request <code>${e.requestId}</code>`}</p>
    ${e.before !== undefined && html`<p class="muted">Before</p><pre>${JSON.stringify(e.before, null, 2)}</pre>`}
    ${e.after !== undefined && html`<p class="muted">After</p><pre>${JSON.stringify(e.after, null, 2)}</pre>`}
  </details>`;
}

export function auditPage(d: AuditData): SafeHtml {
  const body = html`<h1>Audit log</h1>
<p class="lede">The ${d.limit} most recent events, newest first. Every change the bridge or a person made is here.</p>
${
  d.events.length === 0
    ? html`<p class="empty">No events yet.</p>`
    : html`<div class="table-wrap">
<table class="audit">
  <thead><tr><th scope="col" class="col-when">When</th><th scope="col" class="col-who">Who</th><th scope="col" class="col-what">What</th><th scope="col">Concerning</th></tr></thead>
  <tbody>
  ${d.events.map(
    (e) => html`<tr>
    <td class="nowrap"><time datetime="${e.at}">${ago(e.at, d.now)}</time><br><span class="muted">${utc(e.at)}</span></td>
    <td class="wrap">${e.actor}</td>
    <td class="action"><code>${breakAfterDots(e.action)}</code></td>
    <td>${resource(e, d.resources.get(e.seq))}${summary(e)}${details(e)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>`
}`;
  return layout({ title: "Audit log", viewer: d.viewer, section: "audit", body });
}

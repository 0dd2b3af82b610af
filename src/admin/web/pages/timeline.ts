/**
 * A person's access timeline (docs/offboarding-evidence.md): a section of the user page, and a
 * printable page of its own with no navigation, saying when it was generated and by which bridge,
 * so a printout or PDF handed to an auditor stands on its own.
 */
import type { UserTimeline } from "../../user-timeline.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import { appLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import { documentHead } from "../layout.js";
import { utc } from "../time-format.js";

const SOURCES: Record<string, string> = { idp: "IdP", app: "App", approval: "Approval" };

/** The bridge's own verification values in words (docs/manual-tasks.md, "Verified by read-back"). */
const VERIFICATIONS: Record<string, string> = {
  pending: "pending: the app not read since",
  verified: "verified: the app shows it",
  unverifiable: "unverified: the app cannot be read",
  contradicted: "not shown by the app",
};

/** A `verification` detail as the event recorded it: the bridge's values in words, other text as is, an object as its fields. */
function verificationText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return VERIFICATIONS[v] ?? v;
  if (typeof v === "object" && !Array.isArray(v)) return Object.entries(v).map(([k, x]) => `${k}: ${typeof x === "string" ? x : JSON.stringify(x)}`).join("; ");
  return JSON.stringify(v);
}

export function timelineTable(t: UserTimeline, apps: readonly AppConfig[]): SafeHtml {
  if (t.entries.length === 0) return html`<p class="empty">The audit log holds no access change for this user yet.</p>`;
  return html`<div class="table-wrap" role="region" aria-label="Access timeline" tabindex="0">
<table class="audit timeline">
  <caption class="sr-only">Access changes, oldest first</caption>
  <thead><tr><th scope="col" class="col-when">When</th><th scope="col">Where</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Request id</th><th scope="col">Verified</th></tr></thead>
  <tbody>${t.entries.map(
    (e) => html`<tr>
    <td class="nowrap">${utc(e.at)}</td>
    <td>${e.app === null ? SOURCES[e.source] : appLabel(apps, e.app)}</td>
    <td>${e.summary}</td>
    <td>${e.actor}</td>
    <td>${e.requestId === null ? "" : html`<code>${e.requestId}</code>`}</td>
    <td>${verificationText(e.verification)}</td>
  </tr>`,
  )}</tbody>
</table>
</div>`;
}

/** The user page's section: the table and the way to the printable page. */
export function timelineSection(t: UserTimeline, apps: readonly AppConfig[]): SafeHtml {
  return html`<section aria-labelledby="timeline">
<h2 id="timeline">Access timeline</h2>
<p>Every access change, oldest first, with the IdP request that caused it. <a href="${path("users", t.userId, "timeline")}">Printable version</a></p>
${timelineTable(t, apps)}
</section>`;
}

export interface PrintableTimelineData {
  readonly timeline: UserTimeline;
  readonly apps: readonly AppConfig[];
  readonly generatedAt: Date;
  /** Which bridge answered: its public URL (or the address it was reached at) and version. */
  readonly instance: string;
  readonly version: string;
}

export function printableTimelinePage(d: PrintableTimelineData): SafeHtml {
  const t = d.timeline;
  const who = t.userName ?? t.userId;
  return html`<!doctype html>
<html lang="en">
${documentHead(`Access timeline of ${who}`)}
<body class="printable">
<main id="main">
<h1>Access timeline of ${who}</h1>
<dl class="facts">
  <dt>User</dt><dd><code>${t.userId}</code>${t.inDirectory ? "" : " (deleted from the directory; history from the audit log)"}</dd>
  <dt>Generated</dt><dd>${d.generatedAt.toISOString()}</dd>
  <dt>Bridge</dt><dd>scim-bridge ${d.version} at <code>${d.instance}</code></dd>
</dl>
${timelineTable(t, d.apps)}
<p class="no-print"><a href="${path("users", t.userId)}">Back to the user page</a></p>
</main>
</body>
</html>
`;
}

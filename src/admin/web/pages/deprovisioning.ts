/**
 * The status page's deprovisioning section (docs/offboarding-evidence.md): per app and overall, how
 * long removals requested in the last 30 days took from the IdP request to the access gone
 * (nearest-rank p50, p90, max), and who is still waiting, with what on.
 */
import type { DeprovisioningReport, DurationStats } from "../../deprovisioning-report.js";
import type { WaitingOn } from "../../../provisioning/removals.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import { appLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import { span, utc } from "../time-format.js";

const seconds = (s: number | null): string => (s === null ? "–" : s < 60 ? `${Math.round(s)} s` : span(s * 1000));

function statsCells(s: DurationStats): SafeHtml {
  return html`<td>${s.removals}</td><td>${seconds(s.p50Seconds)}</td><td>${seconds(s.p90Seconds)}</td><td>${seconds(s.maxSeconds)}</td>`;
}

function waitingText(w: WaitingOn): SafeHtml {
  if (w.kind === "task") return html`<a href="/admin#task-${w.taskId}">task #${w.taskId}</a> (${w.state}): ${w.title}`;
  if (w.kind === "approval") return html`an admin's <a href="/admin/approvals">approval</a>`;
  return html`a job retrying: ${w.error}`;
}

export function deprovisioningSection(r: DeprovisioningReport, apps: readonly AppConfig[], now: Date): SafeHtml {
  return html`<section aria-labelledby="status-deprovisioning">
<h2 id="status-deprovisioning">Deprovisioning, last 30 days</h2>
<p>From the IdP request that took access away to the access gone in the app; percentiles are nearest-rank. <a href="/admin/reports/deprovisioning.csv">Download the removals as CSV</a></p>
<div class="table-wrap" role="region" aria-label="Deprovisioning times" tabindex="0">
<table>
  <thead><tr><th scope="col">App</th><th scope="col">Removals</th><th scope="col">p50</th><th scope="col">p90</th><th scope="col">Max</th></tr></thead>
  <tbody>
  ${r.apps.map((a) => html`<tr><th scope="row">${appLabel(apps, a.app)}</th>${statsCells(a)}</tr>`)}
  <tr><th scope="row">All apps</th>${statsCells(r.overall)}</tr>
  </tbody>
</table>
</div>
<h3>Still waiting</h3>
${
  r.waiting.length === 0
    ? html`<p class="empty">Nobody: every access the IdP took away is gone.</p>`
    : html`<div class="table-wrap" role="region" aria-label="Still waiting" tabindex="0">
<table>
  <thead><tr><th scope="col">Who</th><th scope="col">App</th><th scope="col">Since</th><th scope="col">Waiting on</th></tr></thead>
  <tbody>${r.waiting.map(
    (w) => html`<tr>
    <td><a href="${path("users", w.userId)}">${w.userName ?? w.userId}</a></td>
    <td>${appLabel(apps, w.app)}</td>
    <td>${span(now.getTime() - Date.parse(w.requestedAt))} <span class="muted nowrap">(${utc(w.requestedAt)})</span></td>
    <td>${waitingText(w.waitingOn!)}</td>
  </tr>`,
  )}</tbody>
</table>
</div>`
}
</section>`;
}

/**
 * Status: the bridge seen whole, for the admin who owns it. Where the IdP connects and whether it
 * has called, whether each app answers with these credentials, the last drift pass, the job queue,
 * what waits for approval, and the version. The same value as GET /admin/api/status.
 */
import type { AppConfig } from "../../../provisioning/config-schema.js";
import type { StatusReport } from "../../status/status-report.js";
import type { TicketSyncStatus } from "../../../provisioning/ticket-sync.js";
import { appLabel } from "../app-labels.js";
import { html, type SafeHtml } from "../html.js";
import { layout, type Viewer } from "../layout.js";
import { ago, span, utc } from "../time-format.js";
import type { DeprovisioningReport } from "../../deprovisioning-report.js";
import { deprovisioningSection } from "./deprovisioning.js";

export interface StatusPageData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apps: readonly AppConfig[];
  readonly report: StatusReport;
  /** The last 30 days of removals (docs/offboarding-evidence.md). */
  readonly deprovisioning?: DeprovisioningReport | undefined;
}

const when = (iso: string, now: Date): SafeHtml => html`${ago(iso, now)} <span class="muted nowrap">(${utc(iso)})</span>`;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function checkCell(c: StatusReport["apps"][number]["check"], now: Date): SafeHtml {
  const last = c.lastError && c.state !== "failed" ? html`<br><span class="muted">Last error ${ago(c.lastError.at, now)}: ${c.lastError.message}</span>` : "";
  if (c.state === "not-checked") return html`<span class="badge state">not checked</span><br><span class="muted">${c.message ?? ""}</span>`;
  if (c.state === "failed") return html`<span class="badge overdue">failed</span> ${c.checkedAt && ago(c.checkedAt, now)}<br>${c.message ?? ""}`;
  return html`<span class="badge state">reachable</span> ${c.checkedAt && ago(c.checkedAt, now)}<br><span class="muted">signed in with these credentials and read from the instance</span>${last}`;
}

function driftCell(a: StatusReport["apps"][number], now: Date): SafeHtml {
  if (a.drift === null) {
    if (a.check.state === "not-checked") return html`<span class="muted">not read back (no API)</span>`;
    return html`<span class="muted">never checked</span>`;
  }
  if (a.drift.error !== null) return html`<span class="badge overdue">read-back failed</span> ${ago(a.drift.checkedAt, now)}<br>${a.drift.error}`;
  return html`<a href="/admin/drift">${plural(a.drift.items, "difference", "differences")}</a><br><span class="muted">checked ${ago(a.drift.checkedAt, now)}</span>`;
}

/** Tasks as HaloPSA tickets: is HaloPSA read, and does anything wait or fail in the outbox. */
function ticketsSection(t: TicketSyncStatus, now: Date): SafeHtml {
  const read = t.lastReadAt === null ? "none since the bridge started" : when(t.lastReadAt, now);
  return html`<section aria-labelledby="status-tickets">
<h2 id="status-tickets">HaloPSA tickets</h2>
<dl class="facts" id="ticket-sync">
  <dt>Last read of the tickets</dt><dd>${read}${t.lastReadError !== null && html`<br><span class="badge overdue">read failed</span> ${t.lastReadError}`}</dd>
  <dt>Waiting for HaloPSA</dt><dd>${t.toCreate} to create, ${t.toClose} to close, ${t.toReopen} to reopen</dd>
  <dt>Failing</dt><dd>${t.failing === 0 ? "none" : html`<strong>${t.failing}</strong> retried with backoff; last error: ${t.lastError ?? ""}`}</dd>
</dl>
</section>`;
}

export function statusPage(d: StatusPageData): SafeHtml {
  const r = d.report;
  const q = r.queue;
  const body = html`<h1>Status</h1>
<p class="lede">scim-bridge ${r.version}. App checks are live, at most a minute old.</p>

<section aria-labelledby="status-idp">
<h2 id="status-idp">Identity provider</h2>
<dl class="facts">
  <dt>SCIM base URL</dt>
  <dd><code id="scim-base-url">${r.scimBaseUrl}</code><br><span class="muted">Paste it into Okta (SCIM connector base URL) or Entra (Tenant URL), with a SCIM token as the bearer token.</span></dd>
</dl>
${
  r.scimTokens.length === 0
    ? html`<p class="empty">No SCIM token is stored in the database (a token from the environment records no last use). Create one with <code>scim-bridge token create</code> to see when the IdP last called.</p>`
    : html`<div class="table-wrap" role="region" aria-label="SCIM tokens" tabindex="0">
<table>
  <caption>SCIM tokens and the last request each made</caption>
  <thead><tr><th scope="col">Token</th><th scope="col">State</th><th scope="col">Last request</th></tr></thead>
  <tbody>
  ${r.scimTokens.map(
    (t) => html`<tr><th scope="row">${t.name}</th><td>${t.state}</td><td>${t.lastUsedAt === null ? html`<span class="muted">never</span>` : when(t.lastUsedAt, d.now)}</td></tr>`,
  )}
  </tbody>
</table>
</div>`
}
${
  r.scimCallers.length === 0
    ? html`<p class="empty">No SCIM request since the bridge started: the IdP has not called yet.</p>`
    : html`<div class="table-wrap" role="region" aria-label="SCIM callers" tabindex="0">
<table>
  <caption>SCIM requests since the bridge started, by token</caption>
  <thead><tr><th scope="col">Token</th><th scope="col">Last request</th><th scope="col">Client (User-Agent)</th></tr></thead>
  <tbody>
  ${r.scimCallers.map((c) => html`<tr><th scope="row">${c.token}</th><td>${when(c.at, d.now)}</td><td>${c.userAgent ?? html`<span class="muted">none sent</span>`}</td></tr>`)}
  </tbody>
</table>
</div>`
}
</section>

<section aria-labelledby="status-apps">
<h2 id="status-apps">Apps</h2>
<!-- Instance URLs are long: on a narrow screen the table scrolls, so the region takes keyboard focus (WCAG 2.1.1). -->
<div class="table-wrap" role="region" aria-label="Apps" tabindex="0">
<table>
  <caption>Each app's instance, a live check with these credentials, and the last drift pass</caption>
  <thead><tr><th scope="col">App</th><th scope="col">Instance</th><th scope="col">Check</th><th scope="col">Last drift pass</th></tr></thead>
  <tbody>
  ${r.apps.map(
    (a) => html`<tr>
    <th scope="row">${appLabel(d.apps, a.name)}<br><span class="muted">${a.type}</span></th>
    <td><code>${a.instance}</code></td>
    <td>${checkCell(a.check, d.now)}</td>
    <td>${driftCell(a, d.now)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>
</section>

<section aria-labelledby="status-queue">
<h2 id="status-queue">Worker and queue</h2>
<dl class="facts">
  <dt>Worker</dt><dd>${r.worker.running ? "running" : html`<strong>stopped</strong>: see the log and <code>/readyz</code>`}</dd>
  <dt>Queued</dt><dd>${plural(q.queued, "job", "jobs")}${q.running > 0 && `, ${q.running} running`}</dd>
  <dt>Oldest job</dt><dd>${q.oldestAgeMs === null ? "none waiting" : `queued ${span(q.oldestAgeMs)} ago`}</dd>
  <dt>Dead letters</dt><dd>${q.dead === 0 ? "none" : html`<strong>${q.dead}</strong>: stopped until an admin retries them`} (<a href="/admin/jobs">jobs</a>)</dd>
  <dt>Last reconcile pass</dt><dd>${r.reconcile ? html`${when(r.reconcile.endedAt, d.now)}: ${plural(r.reconcile.usersQueued, "user", "users")} re-planned` : "none since the bridge started"}</dd>
  <dt>Approvals</dt><dd>${r.approvals.pending === 0 ? "nothing waits" : html`<a href="/admin/approvals">${plural(r.approvals.pending, "change set waits", "change sets wait")}</a> (${plural(r.approvals.waiting, "person", "people")} held)`}</dd>
</dl>
</section>
${r.tickets && ticketsSection(r.tickets, d.now)}
${d.deprovisioning && deprovisioningSection(d.deprovisioning, d.apps, d.now)}`;
  return layout({ title: "Status", viewer: d.viewer, section: "status", body });
}

/**
 * Drift: what the last reconcile pass found in each app that does not match the identity map.
 */
import type { DriftItem, DriftKind } from "../../../db/drift.js";
import type { AppConfig } from "../../../provisioning/config-schema.js";
import { appLabel } from "../app-labels.js";
import { html, path, type SafeHtml } from "../html.js";
import { layout, type Viewer } from "../layout.js";
import { ago, utc } from "../time-format.js";
import { email } from "../line-breaks.js";

const KIND: Record<DriftKind, string> = {
  orphan: "Enabled in the app; no rule grants it to anyone in the directory",
  unlinked: "In the app with the email of a granted user, but not linked in the identity map",
  "disabled-outside": "Active in the identity map; someone disabled it in the app",
  "enabled-outside": "Disabled in the identity map; someone enabled it in the app",
  "changed-outside": "Email, name or role changed in the app, not by the bridge",
  missing: "The identity map holds an account the app no longer has",
  conflict: "A user was refused an account another user of the bridge holds: decide whose it is",
  duplicate: "Several enabled accounts in the app share this email",
};

export interface DriftApp {
  readonly app: string;
  /** False for apps the bridge cannot read back (manual apps without an API). */
  readonly checked: boolean;
  readonly items: readonly DriftItem[];
}

export interface DriftData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apps: readonly AppConfig[];
  readonly report: readonly DriftApp[];
}

function detail(d: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(d);
  if (entries.length === 0) return html``;
  return html`<ul class="steps">${entries.map(([k, v]) => html`<li>${k}: ${typeof v === "string" ? v : html`<code>${JSON.stringify(v)}</code>`}</li>`)}</ul>`;
}

function section(r: DriftApp, d: DriftData): SafeHtml {
  const label = appLabel(d.apps, r.app);
  const last = r.items[0]?.detectedAt;
  return html`<section aria-labelledby="drift-${r.app}">
  <h2 id="drift-${r.app}">${label}</h2>
  ${
    !r.checked && r.items.length === 0
      ? html`<p class="empty">${label} has no API the bridge can read back, so drift is not checked.</p>`
      : r.items.length === 0
        ? html`<p class="empty">No drift: the last pass found ${label} as the identity map says.</p>`
        : html`<p class="lede">${r.items.length} ${r.items.length === 1 ? "difference" : "differences"} found ${last ? html`${ago(last, d.now)} (${utc(last)})` : ""}.</p>
<div class="table-wrap">
<table>
  <thead><tr><th scope="col">What</th><th scope="col">Email</th><th scope="col">Account in the app</th><th scope="col">User</th><th scope="col">Detail</th></tr></thead>
  <tbody>
  ${r.items.map(
    (i) => html`<tr>
    <td><strong>${i.kind}</strong><br><span class="muted">${KIND[i.kind] ?? ""}</span></td>
    <td>${i.email === null || i.email === undefined ? "" : email(i.email)}</td>
    <td>${i.externalId === null ? "" : html`<code>${i.externalId}</code>`}</td>
    <td>${i.userId === null ? html`<span class="muted">none</span>` : html`<a href="${path("users", i.userId)}">${i.userId}</a>`}</td>
    <td>${detail(i.detail)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>`
  }
</section>`;
}

export function driftPage(d: DriftData): SafeHtml {
  const total = d.report.reduce((n, r) => n + r.items.length, 0);
  const body = html`<h1>Drift</h1>
<p class="lede">Differences between the apps and the identity map, as the last reconcile pass read them. ${total === 0 ? "None right now." : `${total} in total.`}</p>
${d.report.map((r) => section(r, d))}`;
  return layout({ title: "Drift", viewer: d.viewer, section: "drift", body });
}

/**
 * Drift: what the last reconcile pass found in each app that does not match the identity map, who
 * it concerns (by name), what to do about each kind, and when each app was last checked.
 */
import type { DriftItem, DriftKind, DriftPass } from "../../../db/drift.js";
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

/** What an admin does about each kind (docs/provisioning.md, "Reconciler and drift"), in words. */
const FIX: Record<DriftKind, string> = {
  orphan: "Disable the account in the app, or add its owner to a group a rule grants this app to. With enforceDrift on, the bridge deactivates it.",
  unlinked: "Nothing to do by hand: the user's next pass adopts the account. Run a reconcile to do it now.",
  "disabled-outside": "Enable the account in the app again, or remove the user from the group that grants it. With enforceDrift on, the next pass re-enables it.",
  "enabled-outside": "Disable the account in the app again, or add the user back to a group that grants it. With enforceDrift on, the bridge deactivates it.",
  "changed-outside": "Change the email, name or role back in the app, or change the directory or the rules so the bridge wants what is there. With enforceDrift on, the next pass re-asserts it.",
  missing: "Nothing to do if the account was deleted on purpose: the next pass forgets it, and creates it again while a rule still grants it.",
  conflict: "Decide which user the account belongs to: fix the other user's email in the directory, or remove the account from the app. The bridge never decides this itself.",
  duplicate: "Keep one account for the email and disable or delete the others in the app (usually the one made before the bridge).",
};

/** A user named by drift, as the directory knows them (null when the directory no longer has them). */
export interface DriftPerson {
  readonly userName: string | null;
  readonly displayName: string | null;
}

export interface DriftApp {
  readonly app: string;
  /** False for apps the bridge cannot read back (manual apps without an API). */
  readonly readable: boolean;
  /** Undefined before the first pass over this app. */
  readonly lastPass: DriftPass | undefined;
  readonly items: readonly DriftItem[];
}

export interface DriftData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apps: readonly AppConfig[];
  /** By SCIM id, every user an item names. */
  readonly people: ReadonlyMap<string, DriftPerson>;
  readonly report: readonly DriftApp[];
}

function detail(d: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(d);
  if (entries.length === 0) return html``;
  return html`<ul class="steps">${entries.map(([k, v]) => html`<li>${k}: ${typeof v === "string" ? v : html`<code>${JSON.stringify(v)}</code>`}</li>`)}</ul>`;
}

function person(userId: string | null, d: DriftData): SafeHtml {
  if (userId === null) return html`<span class="muted">none</span>`;
  const p = d.people.get(userId);
  if (!p || p.userName === null) return html`<a href="${path("users", userId)}">${userId}</a><br><span class="muted">no longer in the directory</span>`;
  return html`<a href="${path("users", userId)}">${p.displayName ?? p.userName}</a>${p.displayName !== null && p.displayName !== p.userName && html`<br><span class="muted wrap">${p.userName}</span>`}`;
}

function when(iso: string, now: Date): SafeHtml {
  return html`<time datetime="${iso}">${ago(iso, now)}</time> (${utc(iso)})`;
}

/** "Last checked …" or "Never checked": an empty list before any pass says nothing about the app. */
function checkedLine(r: DriftApp, d: DriftData): SafeHtml {
  const p = r.lastPass;
  if (!p) return html`<p class="checked">Never checked: no reconcile pass has read this app yet.</p>`;
  if (p.error !== null) return html`<p class="checked">Last checked ${when(p.at, d.now)}, but the app could not be read: ${p.error}</p>`;
  return html`<p class="checked">Last checked ${when(p.at, d.now)}.</p>`;
}

function section(r: DriftApp, d: DriftData): SafeHtml {
  const label = appLabel(d.apps, r.app);
  if (!r.readable && r.items.length === 0) {
    return html`<section aria-labelledby="drift-${r.app}"><h2 id="drift-${r.app}">${label}</h2>
  <p class="empty">${label} has no API the bridge can read back, so drift is not checked.</p></section>`;
  }
  return html`<section aria-labelledby="drift-${r.app}">
  <h2 id="drift-${r.app}">${label}</h2>
  ${checkedLine(r, d)}
  ${
    r.items.length === 0
      ? r.lastPass && r.lastPass.error === null && html`<p class="empty">No drift: the last pass found ${label} as the identity map says.</p>`
      : html`<p class="lede">${r.items.length} ${r.items.length === 1 ? "difference" : "differences"} found.</p>
<div class="table-wrap">
<table class="drift">
  <thead><tr><th scope="col">What</th><th scope="col">Suggested fix</th><th scope="col">User</th><th scope="col">Email</th><th scope="col">Account in the app</th><th scope="col">Detail</th></tr></thead>
  <tbody>
  ${r.items.map(
    (i) => html`<tr>
    <td><strong>${i.kind}</strong><br><span class="muted">${KIND[i.kind] ?? ""}</span></td>
    <td>${FIX[i.kind] ?? ""}</td>
    <td>${person(i.userId, d)}</td>
    <td>${i.email === null || i.email === undefined ? "" : email(i.email)}</td>
    <td>${i.externalId === null ? "" : html`<code>${i.externalId}</code>`}</td>
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
  const checked = d.report.filter((r) => r.lastPass !== undefined);
  const summary =
    checked.length === 0 ? "No app has been checked yet." : total === 0 ? "None right now." : `${total} in total.`;
  const body = html`<h1>Drift</h1>
<p class="lede">Differences between the apps and the identity map, as the last reconcile pass read them. ${summary}</p>
${d.report.map((r) => section(r, d))}`;
  return layout({ title: "Drift", viewer: d.viewer, section: "drift", body });
}

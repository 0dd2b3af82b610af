/**
 * Waiting for your approval: destructive changes the bridge holds until an admin decides
 * (docs/provisioning.md, "Approvals"), each with why it was held and the people it would affect;
 * below, the last decisions.
 */
import type { ChangeSet, Hold } from "../../../db/approvals.js";
import { describeChangeSet } from "../../../provisioning/approvals.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, layout, notice, type Notice, type Viewer } from "../layout.js";
import { ago, utc } from "../time-format.js";

export interface HeldPerson extends Hold {
  readonly userName: string | null;
}

export interface ApprovalsData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly pending: readonly { readonly set: ChangeSet; readonly holds: readonly HeldPerson[] }[];
  readonly decided: readonly ChangeSet[];
  readonly notice?: Notice | undefined;
}

/** Why the change set was held, in words: the rule diff or the limit. */
function why(set: ChangeSet): SafeHtml {
  if (set.kind === "deprovision-limit") {
    return html`<p>The identity provider asked for more than ${String(set.summary["limit"])} deactivations in this app within ${String(set.summary["windowMinutes"])} minutes. The first ones ran; these wait in case the IdP made a mistake (an unassigned group, a broken sync rule).</p>`;
  }
  const diff = (set.summary["diff"] ?? {}) as Record<string, unknown>;
  const rules = (key: string) => ((diff[key] as unknown[] | undefined) ?? []).map((r) => JSON.stringify(r));
  const apps = (key: string) => ((diff[key] as string[] | undefined) ?? []).join(", ");
  const lines: SafeHtml[] = [];
  for (const r of rules("rulesRemoved")) lines.push(html`<li>Rule removed: <code>${r}</code></li>`);
  for (const r of rules("rulesAdded")) lines.push(html`<li>Rule added: <code>${r}</code></li>`);
  if (apps("appsRemoved")) lines.push(html`<li>Apps removed: ${apps("appsRemoved")}</li>`);
  if (apps("appsChanged")) lines.push(html`<li>Apps changed: ${apps("appsChanged")}</li>`);
  if (typeof diff["note"] === "string") lines.push(html`<li>${diff["note"]}</li>`);
  return html`<p>The apps or rules in the configuration changed, and the new ones would take access away. A typo in a group name does exactly this: check the change before you approve it.</p>
<ul class="steps">${lines}</ul>`;
}

function pendingSection(set: ChangeSet, holds: readonly HeldPerson[], viewer: Viewer, now: Date): SafeHtml {
  const waiting = holds.filter((h) => h.state === "held");
  return html`<section aria-labelledby="set-${set.id}" class="approval">
  <h2 id="set-${set.id}">Change set ${set.id}: ${waiting.length} ${waiting.length === 1 ? "person" : "people"} would lose or change access</h2>
  <p class="muted">Held ${ago(set.createdAt, now)} (${utc(set.createdAt)}). Nothing destructive runs until you decide; what adds access already ran.</p>
  ${why(set)}
  <div class="table-wrap">
  <table>
    <caption>People affected</caption>
    <thead><tr><th scope="col">Person</th><th scope="col">App</th><th scope="col">Would do</th></tr></thead>
    <tbody>
    ${waiting.map(
      (h) => html`<tr>
      <td><a href="${path("users", h.userId)}">${h.userName ?? h.userId}</a></td>
      <td>${h.app}</td>
      <td>${String(h.detail["summary"] ?? h.action)}</td>
    </tr>`,
    )}
    </tbody>
  </table>
  </div>
  <form method="post" action="/admin/approvals/${String(set.id)}/decide" class="decision">
    ${csrfField(viewer)}
    <label for="note-${set.id}">Note for the audit log (optional)</label>
    <textarea id="note-${set.id}" name="note" rows="2" maxlength="4000"></textarea>
    <button type="submit" name="decision" value="approve">Approve: carry these out</button>
    <button type="submit" name="decision" value="reject">Reject: everyone keeps their access</button>
  </form>
</section>`;
}

export function approvalsPage(d: ApprovalsData): SafeHtml {
  const body = html`<h1>Waiting for your approval</h1>
<p class="lede">Deactivations, removals and downgrades that could be a mistake wait here for an admin.</p>
${notice(d.notice)}
${d.pending.length === 0 ? html`<p class="empty">Nothing waits for your approval.</p>` : d.pending.map((p) => pendingSection(p.set, p.holds, d.viewer, d.now))}
${
  d.decided.length > 0 &&
  html`<section aria-labelledby="decided">
  <h2 id="decided">Decided</h2>
  <ul>${d.decided.map((s) => html`<li>${describeChangeSet(s)}${s.decidedBy ? html` by <strong>${s.decidedBy}</strong>` : ""}${s.decidedAt ? html` ${ago(s.decidedAt, d.now)}` : ""}${s.note ? html`: “${s.note}”` : ""}</li>`)}</ul>
</section>`
}`;
  return layout({ title: "Waiting for your approval", viewer: d.viewer, section: "approvals", body });
}

/**
 * Jobs: the provisioning queue and its dead letters. A dead letter is a user's pass that ran out of
 * attempts or failed in a way retrying cannot fix; it stays stopped until an admin retries it here
 * (or a new change for the user arrives).
 */
import type { Job } from "../../../db/jobs.js";
import { html, path, type SafeHtml } from "../html.js";
import { csrfField, layout, notice, type Notice, type Viewer } from "../layout.js";
import { ago, span, utc } from "../time-format.js";

export interface JobRow {
  readonly job: Job;
  /** The user's name in the directory, if they are still there. */
  readonly userName: string | null;
}

export interface JobsPageData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly dead: readonly JobRow[];
  readonly queued: readonly JobRow[];
  readonly notice?: Notice | undefined;
}

function userCell(r: JobRow): SafeHtml {
  return html`<a href="${path("users", r.job.userId)}">${r.userName ?? r.job.userId}</a>`;
}

function retryForm(r: JobRow, d: JobsPageData): SafeHtml {
  return html`<form method="post" action="${path("jobs", r.job.id, "retry")}">${csrfField(d.viewer)}<button type="submit" aria-label="Retry job #${r.job.id} for ${r.userName ?? r.job.userId}">Retry</button></form>`;
}

const running = (j: Job, now: Date): boolean => j.lockedUntil !== null && Date.parse(j.lockedUntil) > now.getTime();

function nextTry(j: Job, now: Date): SafeHtml {
  if (running(j, now)) return html`running now`;
  return Date.parse(j.runAt) <= now.getTime() ? html`now` : html`in ${span(Date.parse(j.runAt) - now.getTime())}<br><span class="muted nowrap">${utc(j.runAt)}</span>`;
}

export function jobsPage(d: JobsPageData): SafeHtml {
  const body = html`<h1>Jobs</h1>
<p class="lede">Each job is one user's provisioning pass. ${d.queued.length} queued, ${d.dead.length} stopped.</p>
${notice(d.notice)}
<section aria-labelledby="jobs-dead">
<h2 id="jobs-dead">Dead letters</h2>
${
  d.dead.length === 0
    ? html`<p class="empty">No dead letters: every pass either finished or will be tried again.</p>`
    : html`<p>These passes stopped. Fix the cause (the error says what), then retry: the pass runs at once with a fresh set of attempts.</p>
<div class="table-wrap">
<table>
  <caption>Stopped jobs, with the error that stopped them</caption>
  <thead><tr><th scope="col">Job</th><th scope="col">User</th><th scope="col">Error</th><th scope="col">Attempts</th><th scope="col">Stopped</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>
  ${d.dead.map(
    (r) => html`<tr>
    <th scope="row">#${r.job.id}</th>
    <td>${userCell(r)}</td>
    <td>${r.job.lastError ?? html`<span class="muted">no error recorded</span>`}</td>
    <td>${r.job.attempts} of ${r.job.maxAttempts}</td>
    <td>${ago(r.job.updatedAt, d.now)}<br><span class="muted nowrap">${utc(r.job.updatedAt)}</span></td>
    <td>${retryForm(r, d)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>`
}
</section>
<section aria-labelledby="jobs-queued">
<h2 id="jobs-queued">Queue</h2>
${
  d.queued.length === 0
    ? html`<p class="empty">The queue is empty: every user is as the rules want.</p>`
    : html`<div class="table-wrap">
<table>
  <caption>Queued and running jobs, in the order the worker takes them</caption>
  <thead><tr><th scope="col">Job</th><th scope="col">User</th><th scope="col">Next try</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
  <tbody>
  ${d.queued.map(
    (r) => html`<tr>
    <th scope="row">#${r.job.id}</th>
    <td>${userCell(r)}</td>
    <td>${nextTry(r.job, d.now)}</td>
    <td>${r.job.attempts} of ${r.job.maxAttempts}</td>
    <td>${r.job.lastError ?? html`<span class="muted">none</span>`}</td>
    <td>${running(r.job, d.now) ? "" : r.job.attempts > 0 && retryForm(r, d)}</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>`
}
</section>`;
  return layout({ title: "Jobs", viewer: d.viewer, section: "jobs", body });
}

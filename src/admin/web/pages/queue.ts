/**
 * The task queue, the home page: open and blocked tasks grouped by app, apps with overdue work
 * first, overdue tasks first within an app (TaskStore.list's order), with counts per app.
 */
import type { Task } from "../../../domain/task.js";
import { raisesTasks, type AppConfig } from "../../../apps/app-types.js";
import { appLabel } from "../app-labels.js";
import { html, type SafeHtml } from "../html.js";
import { layout, notice, type Notice, type Viewer } from "../layout.js";
import type { RuleCheck } from "../../../provisioning/rule-check.js";
import { ruleWarnings } from "./rule-warnings.js";
import { taskCard } from "./task-card.js";

export interface TaskCounts {
  readonly open: number;
  readonly blocked: number;
  readonly overdue: number;
}

export interface QueueData {
  readonly viewer: Viewer;
  readonly now: Date;
  readonly apps: readonly AppConfig[];
  /** Open and blocked tasks in queue order. */
  readonly tasks: readonly Task[];
  readonly counts: Readonly<Record<string, TaskCounts>>;
  readonly notice?: Notice | undefined;
  /** Rules checked against the directory; admins only (reviewers cannot change rules). */
  readonly ruleCheck?: RuleCheck | undefined;
}

const NONE: TaskCounts = { open: 0, blocked: 0, overdue: 0 };

function countsText(c: TaskCounts): SafeHtml {
  return html`${c.open} open · ${c.overdue > 0 ? html`<strong>${c.overdue} overdue</strong>` : "0 overdue"} · ${c.blocked} blocked`;
}

export function queuePage(d: QueueData): SafeHtml {
  // Every app that raises tasks gets a section (an empty one says so), plus any app that still has
  // tasks but has since been removed from the config.
  const names = [...new Set([...d.apps.filter(raisesTasks).map((a) => a.name), ...d.tasks.map((t) => t.app)])];
  const countsOf = (app: string) => d.counts[app] ?? NONE;
  const groups = names
    .map((app, order) => ({ app, order, counts: countsOf(app), tasks: d.tasks.filter((t) => t.app === app) }))
    .sort((a, b) => b.counts.overdue - a.counts.overdue || b.counts.open + b.counts.blocked - (a.counts.open + a.counts.blocked) || a.order - b.order);
  const total = names.reduce((sum, app) => ({ open: sum.open + countsOf(app).open, blocked: sum.blocked + countsOf(app).blocked, overdue: sum.overdue + countsOf(app).overdue }), NONE);

  const body = html`<h1>Task queue</h1>
<p class="lede">Work that people do by hand in apps without an API. Overdue tasks come first. ${countsText(total)}.</p>
${notice(d.notice)}
${ruleWarnings(d.ruleCheck, d.apps)}
${
  groups.length === 0
    ? html`<p class="empty">No app raises manual tasks in this configuration.</p>`
    : groups.length > 1 &&
      html`<ul class="chips" aria-label="Apps">
  ${groups.map((g) => html`<li><a href="#app-${g.app}">${appLabel(d.apps, g.app)}</a> ${countsText(g.counts)}</li>`)}
</ul>`
}
${groups.map(
  (g) => html`<section aria-labelledby="app-${g.app}">
  <div class="app-heading">
    <h2 id="app-${g.app}">${appLabel(d.apps, g.app)}</h2>
    <p>${countsText(g.counts)}</p>
  </div>
  ${g.tasks.length === 0 ? html`<p class="empty">Nothing to do in ${appLabel(d.apps, g.app)}.</p>` : g.tasks.map((t) => taskCard(t, d.apps, d.viewer, d.now))}
</section>`,
)}`;
  return layout({ title: "Task queue", viewer: d.viewer, section: "queue", body });
}

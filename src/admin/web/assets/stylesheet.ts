/**
 * The review page's one stylesheet, plain CSS served as /admin/assets/admin-<hash>.css. It lives in
 * a module rather than a .css file because the image ships only compiled dist/ (Dockerfile).
 *
 * Colours are chosen for WCAG 2.2 AA contrast on their backgrounds (body text #1b1b1f on #f5f6f8
 * is 16:1; the white-on-red overdue badge 7:1; muted text #4a4f57 on white 8:1), and every
 * focusable element gets a visible 3px focus ring (WCAG 2.4.7, 2.4.11).
 */
export const STYLESHEET = `
:root {
  color-scheme: light;
  --ink: #1b1b1f; --muted: #4a4f57; --line: #c9ced6; --bg: #f5f6f8; --card: #ffffff;
  --accent: #0b57d0; --ok: #1e6b34; --bad: #a3262a; --warn: #8a6100; --warn-bg: #fff1c2; --focus: #0b57d0;
}
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif; line-height: 1.5; color: var(--ink); background: var(--bg); }
body { margin: 0; }
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip-link { position: absolute; left: -9999px; top: 0; }
.skip-link:focus { left: .5rem; top: .5rem; z-index: 10; background: #fff; color: var(--accent); padding: .5rem 1rem; }

.site-header { background: #1b1b1f; color: #fff; }
.site-header .inner { max-width: 72rem; margin: 0 auto; padding: .6rem 1.25rem; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; }
.site-header :focus-visible { outline-color: #fff; }
.brand { font-weight: 700; color: #fff; text-decoration: none; margin-right: auto; }
.site-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
.site-nav a { display: block; color: #fff; padding: .35rem .75rem; border-radius: 6px; text-decoration: none; }
.site-nav a:hover { background: #3a3a42; }
.site-nav a[aria-current="page"] { background: #fff; color: #1b1b1f; }
.site-header .who { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: center; font-size: .9rem; min-width: 0; }
.site-header .who span { overflow-wrap: anywhere; }
.site-header .who button { background: transparent; color: #fff; border-color: #9aa0a8; }

main { display: block; max-width: 72rem; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
main:focus { outline: none; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; line-height: 1.3; margin: 2rem 0 .75rem; }
h3 { font-size: 1.1rem; line-height: 1.35; margin: 0; }
h4 { font-size: .95rem; margin: .75rem 0 .25rem; }
.lede { color: var(--muted); margin: 0 0 1rem; }
.muted { color: var(--muted); }

.notice { background: #fff; border: 1px solid var(--line); border-left: 6px solid var(--ok); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0 1.5rem; }
.notice.error { border-left-color: var(--bad); }
.notice.warning { border-left-color: var(--warn); background: var(--warn-bg); color: #4d3600; }
.notice.warning h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
.notice.info { border-left-color: var(--accent); }
.notice p { margin: .25rem 0; }
.notice form { display: inline; }

.chips { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; margin: 0 0 1rem; padding: 0; }
.chips li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .35rem .75rem; }
.chips a { font-weight: 600; }
.app-heading { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; }
.app-heading p { margin: 0; color: var(--muted); }

.badge { display: inline-block; font-size: .8rem; font-weight: 700; line-height: 1.4; padding: .05rem .55rem; border-radius: 999px; border: 1px solid; white-space: nowrap; }
.badge.overdue { background: var(--bad); border-color: var(--bad); color: #fff; }
.badge.blocked { background: var(--warn-bg); border-color: var(--warn); color: #4d3600; }
.badge.claimed { background: #e6eefc; border-color: #7f9fd8; color: #123a7a; }
.badge.state { background: #eef0f3; border-color: #9aa0a8; color: var(--ink); }

.task { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 0 0 1rem; }
.task.overdue { border-left-color: var(--bad); }
.task.blocked { border-left-color: var(--warn); }
.task header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; justify-content: space-between; }
.task .badges { display: flex; gap: .35rem; margin: 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: .75rem 0; }
.facts dt { font-weight: 600; color: var(--muted); }
.facts dd { margin: 0; display: flex; flex-wrap: wrap; align-items: center; gap: .25rem .5rem; }
.blocked-reason { background: var(--warn-bg); border-radius: 6px; padding: .5rem .75rem; color: #4d3600; }
.steps { margin: .25rem 0 0; padding-left: 1.5rem; }
.steps li { margin: .2rem 0; padding-left: .25rem; }

code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: .95em; background: #eef0f3; padding: .05rem .35rem; border-radius: 4px; overflow-wrap: anywhere; }
pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: .85rem; background: #eef0f3; padding: .5rem .75rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0; }

.actions { display: grid; grid-template-columns: auto 1fr 1fr; gap: 1rem 1.5rem; align-items: end; border-top: 1px solid var(--line); padding-top: .9rem; margin-top: 1rem; }
.actions form { margin: 0; }
.field-row { display: flex; gap: .5rem; align-items: flex-end; }
.field-row > div { flex: 1; min-width: 0; }
@media (max-width: 52rem) { .actions { grid-template-columns: 1fr; } }

label { display: block; font-weight: 600; margin-bottom: .2rem; }
label .hint { font-weight: 400; color: var(--muted); }
input[type="text"], input[type="password"], textarea {
  display: block; width: 100%; height: 2.5rem; font: inherit; line-height: 1.5; padding: .4rem .6rem; border: 1px solid #767c85; border-radius: 6px; background: #fff; color: var(--ink);
}
textarea { min-height: 2.5rem; resize: vertical; }
.field-row button { height: 2.5rem; }
/* A long label ("Approve: carry out these 2 changes") wraps inside its button instead of running
   past the screen or over its neighbour; short ones never wrap (they fit). */
button { font: inherit; font-weight: 600; padding: .4rem .9rem; border-radius: 6px; border: 1px solid #5f6670; background: #fff; color: var(--ink); cursor: pointer; max-width: 100%; overflow-wrap: break-word; }
button.copy { white-space: nowrap; }
button:hover { background: #eef0f3; }
button.primary { background: var(--ok); border-color: var(--ok); color: #fff; }
button.primary:hover { background: #155228; }
button.danger { color: var(--bad); border-color: var(--bad); }
button.danger:hover { background: #fbeaea; }
button.copy { font-size: .85rem; font-weight: 600; padding: .05rem .55rem; }
button[hidden] { display: none; }

/* position: relative keeps a visually hidden header (.sr-only, absolutely placed) inside the
   scrolling wrapper; without it, it escaped the table and the whole page scrolled sideways. */
.table-wrap { position: relative; overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .5rem .6rem; }
th, td { text-align: left; vertical-align: top; padding: .5rem .7rem; border-bottom: 1px solid var(--line); }
thead th { background: #eceef2; font-size: .9rem; }
tbody tr:last-child > * { border-bottom: 0; }
.nowrap, .nowrap code { white-space: nowrap; overflow-wrap: normal; }
code.block { display: block; margin-top: .25rem; padding: .35rem .5rem; }
td form { margin: 0; }
/* Fixed columns that leave "Concerning" at least a third of the table: with 41rem of fixed widths
   it shrank to 0 px (one letter per line) at 640 px. Below its min-width the table scrolls inside
   .table-wrap, never the page (WCAG 1.4.10 allows it for a data table). */
.audit { table-layout: fixed; font-size: .9rem; min-width: 36rem; }
.audit .col-when { width: 22%; }
.audit .col-who { width: 22%; }
.audit .col-what { width: 22%; }
.audit td { overflow-wrap: anywhere; }
/* Long action names break after their dots (<wbr>) instead of running into the next column. */
.audit td.action code { overflow-wrap: normal; }
.audit details { margin-top: .25rem; }
details summary { cursor: pointer; color: var(--accent); white-space: nowrap; }

.user-filter { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: flex-end; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .9rem 1rem; margin: 0 0 1rem; }
.user-filter .search-field { flex: 1 1 16rem; min-width: 0; }
.user-filter select { display: block; height: 2.5rem; font: inherit; padding: .3rem .5rem; border: 1px solid #767c85; border-radius: 6px; background: #fff; color: var(--ink); }
.user-filter fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
.user-filter legend { font-weight: 600; padding: 0; margin-bottom: .2rem; }
.user-filter .check { display: flex; gap: .35rem; align-items: center; }
.user-filter .check label { font-weight: 400; margin: 0; }
.matrix { font-size: .9rem; }
.matrix th[scope="row"] { font-weight: 400; min-width: 10rem; }
.wrap { overflow-wrap: anywhere; }
.paging { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: baseline; margin: 1rem 0; }
.paging p { margin: 0; }
.change-summary { margin: 0; padding-left: 1.1rem; }

.sign-in { max-width: 30rem; margin: 3rem auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem 1.75rem; }
.sign-in form { display: grid; gap: .75rem; margin-top: 1rem; }
.sign-in button { justify-self: start; }
.empty { background: #fff; border: 1px dashed var(--line); border-radius: 8px; padding: 1rem 1.25rem; color: var(--muted); }
/* Emails break after "@" and dots (<wbr>), and anywhere as a last resort, never past their box. */
.email { overflow-wrap: anywhere; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.timeline td { overflow-wrap: anywhere; }
/* The printable access timeline (docs/offboarding-evidence.md): no navigation, the whole width, and on paper no links to follow. */
body.printable main { max-width: none; }
@media print {
  body { background: #fff; }
  .site-header, .skip-link, .no-print { display: none; }
  .table-wrap { overflow: visible; border: 0; }
  .timeline { font-size: 9pt; min-width: 0; }
  .timeline tr { break-inside: avoid; }
}
`;

/**
 * The shared page shell: language, title, stylesheet, a skip link, the navigation (admin pages only
 * for admins), who is signed in with a sign-out button, and the main landmark.
 */
import type { SessionScope } from "../../db/sessions.js";
import { CSRF_FIELD } from "./csrf.js";
import { html, type Interpolation, type SafeHtml } from "./html.js";
import { ICON_ASSET, SCRIPT_ASSET, STYLESHEET_ASSET } from "./static-assets.js";

/** Who is looking at the page, and the CSRF token their forms carry. */
export interface Viewer {
  /** What the audit log and the tasks record for this person's actions (auth/actors.ts). */
  readonly actor: string;
  readonly name: string;
  readonly scope: SessionScope;
  readonly csrfToken: string;
}

export type Section = "queue" | "users" | "approvals" | "drift" | "audit" | "status" | "jobs";

export interface Notice {
  readonly kind: "success" | "error";
  readonly body: SafeHtml;
}

export interface PageOptions {
  readonly title: string;
  readonly viewer?: Viewer | undefined;
  readonly section?: Section | undefined;
  readonly body: Interpolation;
}

/** The hidden field every POST form of a session carries. */
export const csrfField = (viewer: Viewer): SafeHtml => html`<input type="hidden" name="${CSRF_FIELD}" value="${viewer.csrfToken}">`;

export const isAdmin = (viewer: Viewer): boolean => viewer.scope === "admin";

export function notice(n: Notice | undefined): SafeHtml {
  if (!n) return html``;
  // An error is urgent (role=alert); a result is announced politely once the page loads.
  return html`<div class="notice ${n.kind}" id="outcome" role="${n.kind === "error" ? "alert" : "status"}">${n.body}</div>`;
}

/** The bridge's own machinery, last in the navigation: it matters less often than the work. */
const OPERATIONS: [Section, string, string][] = [
  ["jobs", "/admin/jobs", "Jobs"],
  ["status", "/admin/status", "Status"],
];

function navigation(viewer: Viewer, section: Section | undefined): SafeHtml {
  const items: [Section, string, string][] = [["queue", "/admin", "Task queue"]];
  if (isAdmin(viewer)) items.push(["users", "/admin/users", "Users"], ["approvals", "/admin/approvals", "Approvals"], ["drift", "/admin/drift", "Drift"], ["audit", "/admin/audit", "Audit log"], ...OPERATIONS);
  return html`<nav class="site-nav" aria-label="Main">
      <ul>
        ${items.map(([key, href, label]) => html`<li><a href="${href}"${key === section ? html` aria-current="page"` : ""}>${label}</a></li>`)}
      </ul>
    </nav>
    <div class="who">
      <span>Signed in as <strong>${viewer.name}</strong> (${viewer.scope})</span>
      <form method="post" action="/admin/sign-out">${csrfField(viewer)}<button type="submit">Sign out</button></form>
    </div>`;
}

/** The head every page shares: language settings, title, icon, stylesheet and script. */
export function documentHead(title: string): SafeHtml {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · scim-bridge</title>
<link rel="icon" href="${ICON_ASSET.path}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLESHEET_ASSET.path}">
<script src="${SCRIPT_ASSET.path}" defer></script>
</head>`;
}

export function layout(o: PageOptions): SafeHtml {
  return html`<!doctype html>
<html lang="en">
${documentHead(o.title)}
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="inner">
    <a class="brand" href="/admin">scim-bridge review</a>
    ${o.viewer && navigation(o.viewer, o.section)}
  </div>
</header>
<main id="main" tabindex="-1">
${o.body}
</main>
<p id="copy-status" class="sr-only" role="status" aria-live="polite"></p>
</body>
</html>
`;
}

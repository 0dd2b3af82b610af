/**
 * Error pages: what happened and what to do, never a stack trace.
 */
import { html, type Interpolation, type SafeHtml } from "../html.js";
import { layout, type Viewer } from "../layout.js";

export function errorPage(title: string, message: Interpolation, viewer?: Viewer): SafeHtml {
  return layout({
    title,
    viewer,
    body: html`<h1>${title}</h1>
<div class="notice error" role="alert"><p>${message}</p></div>
<p><a href="/admin">Back to the task queue</a></p>`,
  });
}

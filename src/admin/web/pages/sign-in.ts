/**
 * The sign-in page: paste an admin or reviewer token. The field is a password field that the
 * browser does not autofill, and the page never puts a submitted token back into the form.
 */
import { CSRF_FIELD } from "../csrf.js";
import { html, type SafeHtml } from "../html.js";
import { layout, notice, type Notice } from "../layout.js";

export interface SignInData {
  /** The double-submit value that is also in the sign-in cookie. */
  readonly csrfToken: string;
  /** Where to go after signing in (a path under /admin, already checked). */
  readonly next: string;
  readonly notice?: Notice | undefined;
}

export function signInPage(d: SignInData): SafeHtml {
  const body = html`<div class="sign-in">
  <h1>Sign in</h1>
  <p class="lede">The review queue for manual tasks. Paste an <strong>admin</strong> or <strong>reviewer</strong> token; it is exchanged for a session on this browser and not stored.</p>
  ${notice(d.notice)}
  <form method="post" action="/admin/sign-in">
    <input type="hidden" name="${CSRF_FIELD}" value="${d.csrfToken}">
    <input type="hidden" name="next" value="${d.next}">
    <div>
      <label for="token">Admin or reviewer token</label>
      <input type="password" id="token" name="token" required autocomplete="off" spellcheck="false" aria-describedby="token-hint">
    </div>
    <p id="token-hint" class="muted">No token? An admin creates one for you with <code class="block">scim-bridge token create --scope reviewer --name you</code></p>
    <button type="submit" class="primary">Sign in</button>
  </form>
</div>`;
  return layout({ title: "Sign in", body });
}

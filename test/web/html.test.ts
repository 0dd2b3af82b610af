/**
 * The `html` tagged template: every interpolation is escaped, nothing a user sends can become
 * markup, and only other `html` results pass through untouched.
 */
import { describe, expect, it } from "vitest";
import { escapeHtml, html, path, SafeHtml } from "../../src/admin/web/html.js";

describe("html escaper", () => {
  it("escapes the characters that open a tag, an entity or an attribute", () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y' \`z\``)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39; &#96;z&#96;");
  });

  it("keeps a script in a task title as text", () => {
    const title = `<img src=x onerror="alert(1)">`;
    expect(html`<h3>${title}</h3>`.value).toBe("<h3>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</h3>");
  });

  it("cannot be broken out of a quoted attribute", () => {
    const email = `a@b.c" autofocus onfocus="alert(1)`;
    const out = html`<button data-copy="${email}">`.value;
    expect(out).toBe(`<button data-copy="a@b.c&quot; autofocus onfocus=&quot;alert(1)">`);
    expect(out.match(/"/g)).toHaveLength(2);
    expect(html`<input value='${"x' onclick='y"}'>`.value).toBe("<input value='x&#39; onclick=&#39;y'>");
  });

  it("does not double-escape nested templates, and escapes what is inside them", () => {
    const inner = html`<strong>${"<b>"}</strong>`;
    expect(html`<p>${inner}</p>`.value).toBe("<p><strong>&lt;b&gt;</strong></p>");
  });

  it("joins arrays, escaping each item, and renders null, undefined and booleans as nothing", () => {
    expect(html`<ol>${["<a>", html`<li>ok</li>`, ["&"]]}</ol>`.value).toBe("<ol>&lt;a&gt;<li>ok</li>&amp;</ol>");
    expect(html`[${null}${undefined}${false}${true}${0}]`.value).toBe("[0]");
  });

  it("treats a look-alike object as text, not as trusted markup", () => {
    const fake = { value: "<script>", toString: () => "<script>" } as unknown as SafeHtml;
    expect(html`${fake}`.value).toBe("&lt;script&gt;");
  });

  it("encodes each dynamic path segment, so an id cannot add a path or a query", () => {
    expect(path("users", "../audit?x=1#y")).toBe("/admin/users/..%2Faudit%3Fx%3D1%23y");
    expect(path("tasks", 12, "done")).toBe("/admin/tasks/12/done");
  });
});

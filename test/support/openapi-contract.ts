/**
 * openapi.yaml as a contract a real response is checked against: find the operation for a method
 * and a concrete path, the response documented for the status (following $refs into components),
 * the media type the server answered with, and validate the body against its schema (each line
 * against `x-itemSchema` for JSON lines). Every mismatch is reported as text; [] means conforming.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { resolvePointer, validate } from "./json-schema.js";

export type OpenApiDocument = Record<string, any>;

export const METHODS = ["get", "put", "post", "patch", "delete"] as const;

export function loadOpenApi(file = new URL("../../openapi.yaml", import.meta.url)): OpenApiDocument {
  return parse(readFileSync(file, "utf8")) as OpenApiDocument;
}

/** A documented response as the server sent it. */
export interface ObservedResponse {
  readonly method: string;
  /** The request path without the query string, e.g. /admin/api/tasks/7. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

const follow = (doc: OpenApiDocument, node: any): any => {
  let n = node;
  for (let hops = 0; n && typeof n.$ref === "string" && Object.keys(n).length === 1; hops++) {
    if (hops > 10) throw new Error(`$ref cycle at ${String(n.$ref)}`);
    n = resolvePointer(doc, n.$ref);
  }
  return n;
};

/**
 * The path template of the document that `path` instantiates. A literal segment beats a parameter
 * (`/tasks/counts` is not `/tasks/{id}`), as OpenAPI 3.1 §4.8.8 says concrete paths match first.
 */
export function pathTemplate(doc: OpenApiDocument, path: string): string | undefined {
  const candidates = Object.keys(doc["paths"] as object).filter((template) => {
    const re = new RegExp(`^${template.split(/\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^/]+")}$`);
    return re.test(path);
  });
  const params = (t: string) => (t.match(/\{/g) ?? []).length;
  return candidates.sort((a, b) => params(a) - params(b))[0];
}

/** "GET /admin/api/tasks/{id}" for an observed request. */
export function operationKey(doc: OpenApiDocument, method: string, path: string): string | undefined {
  const template = pathTemplate(doc, path);
  return template === undefined ? undefined : `${method.toUpperCase()} ${template}`;
}

/** Every mismatch between the response and the document; [] when it conforms. */
export function checkResponse(doc: OpenApiDocument, r: ObservedResponse): string[] {
  const where = `${r.method.toUpperCase()} ${r.path} → ${r.status}`;
  const template = pathTemplate(doc, r.path);
  if (template === undefined) return [`${where}: no path in openapi.yaml matches ${r.path}`];
  const operation = doc["paths"][template][r.method.toLowerCase()];
  if (!operation) return [`${where}: ${template} documents no ${r.method.toUpperCase()}`];
  const responses = operation.responses ?? {};
  const documented = responses[String(r.status)] ?? responses[`${String(r.status)[0]}XX`] ?? responses["default"];
  if (!documented) return [`${where}: status ${r.status} is not documented for ${r.method.toUpperCase()} ${template} (documented: ${Object.keys(responses).join(", ")})`];
  const response = follow(doc, documented);
  const content: Record<string, any> | undefined = response.content;
  if (!content) return r.text === "" ? [] : [`${where}: the document says no body, the server sent ${r.text.length} bytes`];
  const mediaType = (r.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const media = content[mediaType];
  if (!media) return [`${where}: Content-Type "${mediaType}" is not documented (documented: ${Object.keys(content).join(", ")})`];

  if (media["x-itemSchema"] !== undefined) {
    if (r.text !== "" && !r.text.endsWith("\n")) return [`${where}: JSON lines must end with a newline`];
    const lines = r.text === "" ? [] : r.text.slice(0, -1).split("\n");
    return lines.flatMap((line, i) => bodyErrors(doc, media["x-itemSchema"], line, `${where} line ${i + 1}`));
  }
  // A text body (text/csv) is validated as one string: its schema says what the text must look like.
  if (mediaType.startsWith("text/")) return validate(media.schema ?? true, r.text, doc).map((e) => `${where}: ${e.path || "(body)"}: ${e.message}`);
  return bodyErrors(doc, media.schema ?? true, r.text, where);
}

function bodyErrors(doc: OpenApiDocument, schema: unknown, text: string, where: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [`${where}: the body is not JSON: ${text.slice(0, 200)}`];
  }
  return validate(schema, body, doc).map((e) => `${where}: ${e.path || "(body)"}: ${e.message}`);
}

/** Every (method path status) the document promises under `prefix`, e.g. "POST /admin/api/tasks/{id}/fail 412". */
export function documentedResponses(doc: OpenApiDocument, prefix: string): string[] {
  const out: string[] = [];
  for (const [template, item] of Object.entries(doc["paths"] as Record<string, any>)) {
    if (!template.startsWith(prefix)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      for (const status of Object.keys(op.responses ?? {})) out.push(`${method.toUpperCase()} ${template} ${status}`);
    }
  }
  return out;
}

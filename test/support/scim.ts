/**
 * What the SCIM tests share: the RFC's URNs (written out here rather than imported from src, so a
 * typo there cannot pass its own test), request builders, a bridge per describe block, and the
 * assertions every error answer must pass.
 */
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect } from "vitest";
import { startBridge, type ScimResult, type TestBridge } from "./bridge.js";

export const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
/** The non-standard URN Entra puts in Group POSTs (docs/vendor-facts.md). */
export const MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const ERROR = "urn:ietf:params:scim:api:messages:2.0:Error";

/** A PatchOp request body (RFC 7644 §3.5.2). */
export const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

/** The smallest valid User body, plus whatever else a test needs. */
export const userBody = (userName: unknown, extra: Record<string, unknown> = {}) => ({ schemas: [CORE_USER], userName, ...extra });

/** Code-unit order, the same on both sides of a comparison of id lists. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A bridge started before the tests of the enclosing describe block and closed after them.
 * The returned handle forwards to that bridge, so it can be captured at declaration time.
 */
export function useBridge(env: Record<string, string> = {}): TestBridge {
  let current: TestBridge | undefined;
  beforeAll(async () => {
    current = await startBridge(env);
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  const started = (): TestBridge => {
    if (!current) throw new Error("useBridge(): the bridge runs from beforeAll to afterAll; use it inside a test or hook");
    return current;
  };
  return {
    get running() {
      return started().running;
    },
    get baseUrl() {
      return started().baseUrl;
    },
    get dir() {
      return started().dir;
    },
    get dbFile() {
      return started().dbFile;
    },
    get logLines() {
      return started().logLines;
    },
    scim: (...args) => started().scim(...args),
    close: () => started().close(),
  };
}

/** A second, read-only connection to the bridge's SQLite file, to look at rows the API does not show. */
export function openReadOnly(bridge: TestBridge): Database.Database {
  return new Database(bridge.dbFile, { readonly: true, fileMustExist: true });
}

/** POSTs a resource, expects 201, and returns the created resource. */
export async function create(
  bridge: TestBridge,
  resource: "Users" | "Groups",
  body: unknown,
  headers: Record<string, string> = {},
): Promise<any> {
  const res = await bridge.scim("POST", `/${resource}`, body, headers);
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** The ids of a group's members, in code-unit order. */
export async function memberIds(bridge: TestBridge, groupId: string, headers: Record<string, string> = {}): Promise<string[]> {
  const res = await bridge.scim("GET", `/Groups/${groupId}`, undefined, headers);
  expect(res.status, res.text).toBe(200);
  return ((res.body.members ?? []) as { value: string }[]).map((m) => m.value).sort(byCodeUnit);
}

/**
 * An RFC 7644 §3.12 error answer: the HTTP status, application/scim+json, the Error schema,
 * `status` as the same number in a string (Okta's spec test compares it with "404" and "401"),
 * a `detail` string, and exactly the expected `scimType` (none when none is given).
 */
export function expectScimError(res: ScimResult, status: number, scimType?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/scim\+json/);
  expect(res.body?.schemas, res.text).toEqual([ERROR]);
  expect(res.body.status).toBe(String(status));
  expect(res.body.scimType).toBe(scimType);
  expect(typeof res.body.detail).toBe("string");
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
}

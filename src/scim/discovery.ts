/**
 * Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes, /Schemas.
 * The schema documents are scimmy's RFC 7643 definitions, the same ones validation uses.
 */
import { BridgeError } from "../errors.js";
import { CURSOR_TIMEOUT_SECONDS } from "./cursor.js";
import { DEFAULT_PAGE_SIZE, listResponse, MAX_PAGE_SIZE } from "./list-query.js";
import type { ScimResponse } from "./protocol.js";
import { accessExtensionSchema, enterpriseUserSchema, groupSchema, resourceSchemas, userSchema, type ResourceSchema } from "./schema.js";

const schemaDocuments = [userSchema, enterpriseUserSchema, accessExtensionSchema, groupSchema].map((s) => s.document);

export function serviceProviderConfig(baseUrl: string): ScimResponse {
  return {
    status: 200,
    body: {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
      documentationUri: "https://github.com/scim-bridge/scim-bridge#readme",
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: MAX_PAGE_SIZE },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      // RFC 9865 §4. Index paging stays the default, so clients written for RFC 7644 see no change (§2.5).
      pagination: {
        cursor: true,
        index: true,
        defaultPaginationMethod: "index",
        defaultPageSize: DEFAULT_PAGE_SIZE,
        maxPageSize: MAX_PAGE_SIZE,
        cursorTimeout: CURSOR_TIMEOUT_SECONDS,
      },
      authenticationSchemes: [
        {
          type: "oauthbearertoken",
          name: "OAuth Bearer Token",
          description: "Bearer token created with `scim-bridge token create --scope scim`",
          primary: true,
        },
      ],
      meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
    },
  };
}

function resourceTypeDocument(r: ResourceSchema, baseUrl: string): Record<string, unknown> {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: r.name,
    name: r.name,
    endpoint: r.endpoint,
    description: r.core.description,
    schema: r.core.id,
    schemaExtensions: r.extensions.map((e) => ({ schema: e.id, required: false })),
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${r.name}` },
  };
}

export function resourceTypes(baseUrl: string, id?: string): ScimResponse {
  const docs = resourceSchemas.map((r) => resourceTypeDocument(r, baseUrl));
  if (id === undefined) return { status: 200, body: listResponse(docs.length, 1, docs) };
  const doc = docs.find((d) => d["id"] === id);
  if (!doc) throw new BridgeError("notFound", `ResourceType ${id} not found`);
  return { status: 200, body: doc };
}

export function schemas(baseUrl: string, id?: string): ScimResponse {
  const docs = schemaDocuments.map(
    (d): Record<string, unknown> => ({ ...d, meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${String(d["id"])}` } }),
  );
  if (id === undefined) return { status: 200, body: listResponse(docs.length, 1, docs) };
  const doc = docs.find((d) => d["id"] === id);
  if (!doc) throw new BridgeError("notFound", `Schema ${id} not found`);
  return { status: 200, body: doc };
}

/**
 * Huntress API authentication (reference, "Authentication"; securityDefinitions.basic_auth):
 * HTTP Basic with the API key as user name and the API secret as password, on every request:
 * `Authorization: Basic [Base64Encode(<your_api_key>:<your_api_secret_key>)]`.
 */
import type { Request, Response } from "express";
import { errorBody, type ErrorShape } from "./model.js";

export interface ApiCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** RFC 7617 §2: base64 of "user-id:password"; the user id cannot contain a colon, the password can. */
export function parseBasic(header: string | undefined): ApiCredentials | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { apiKey: decoded.slice(0, colon), apiSecret: decoded.slice(colon + 1) };
}

export function authenticates(req: Request, expected: ApiCredentials): boolean {
  const given = parseBasic(req.get("authorization"));
  return given !== null && given.apiKey === expected.apiKey && given.apiSecret === expected.apiSecret;
}

/**
 * Reference, HTTP Response Codes: 401 "Your request could not be authenticated. Check that your
 * API key is properly formatted and included in the Authorization header." RFC 9110 §11.6.1: a
 * 401 carries a challenge.
 */
export function challenge(res: Response, shape: ErrorShape): void {
  const body = errorBody(shape, 401, "Authentication credentials are missing or invalid.");
  res.status(401).set("WWW-Authenticate", 'Basic realm="Huntress API"');
  if (body === undefined) res.end();
  else res.json(body);
}

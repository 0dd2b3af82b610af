/**
 * Admin API errors as RFC 9457 problem details, mapped from the same BridgeError codes as SCIM.
 * This is the one place an admin error becomes a wire body.
 */
import type { Response } from "express";
import type { Deny } from "../auth/bearer.js";
import type { BridgeError } from "../errors.js";
import { errorHeaders, httpStatusOf } from "../scim/protocol.js";

/** RFC 9110 reason phrases of the statuses the admin API answers with; `about:blank` problems use them as titles (RFC 9457 §4.2.1). */
const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? "Server Error" : "Client Error");
}

export function sendProblem(res: Response, status: number, detail: string): void {
  if (status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="scim-bridge"');
  res.status(status).type("application/problem+json").send(JSON.stringify({ type: "about:blank", title: titleOf(status), status, detail }));
}

export function sendBridgeProblem(res: Response, e: BridgeError): void {
  for (const [name, value] of Object.entries(errorHeaders(e.code))) res.setHeader(name, value);
  sendProblem(res, httpStatusOf(e.code), e.message);
}

export const denyProblem: Deny<Response> = (res, status, detail) => sendProblem(res, status, detail);

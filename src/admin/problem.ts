/**
 * Admin API errors as RFC 9457 problem details, mapped from the same BridgeError codes as SCIM.
 */
import type { Response } from "express";
import type { Deny } from "../auth/bearer.js";
import type { BridgeError, ErrorCode } from "../errors.js";
import { httpStatusOf } from "../scim/protocol.js";

export function sendProblem(res: Response, status: number, title: string, detail: string): void {
  if (status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="scim-bridge"');
  res.status(status).type("application/problem+json").send(JSON.stringify({ type: "about:blank", title, status, detail }));
}

const TITLES: Partial<Record<ErrorCode, string>> = {
  notFound: "Not Found",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  invalidValue: "Invalid value",
  invalidSyntax: "Invalid request",
  preconditionFailed: "Conflict",
};

export function sendBridgeProblem(res: Response, e: BridgeError): void {
  sendProblem(res, httpStatusOf(e.code), TITLES[e.code] ?? e.code, e.message);
}

export const denyProblem: Deny = (res, status, detail) => sendProblem(res, status, status === 401 ? "Unauthorized" : "Forbidden", detail);

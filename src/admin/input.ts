/**
 * Admin API input, parsed once at the edge with zod: query strings, JSON bodies and path ids.
 * A bad value is a 400 naming the parameter, an unknown parameter too (a misspelt filter that was
 * silently ignored would answer the wrong question), a body that is not JSON a 415.
 */
import type { Request } from "express";
import { z } from "zod";
import { BridgeError } from "../errors.js";

function describe(where: string, error: z.ZodError): string {
  return error.issues.map((i) => `${where}${i.path.length > 0 ? ` ${i.path.join(".")}` : ""}: ${i.message}`).join("; ");
}

export function parseQuery<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) throw new BridgeError("invalidValue", describe("query parameter", parsed.error));
  return parsed.data;
}

/** Parses a JSON body; no body at all reads as `{}`, so optional fields can stay optional. */
export function parseBody<T extends z.ZodType>(schema: T, req: Request): z.output<T> {
  // fetch and curl send `Content-Length: 0` with a bodiless POST: that is no body, whatever its type.
  const length = req.headers["content-length"];
  const empty = length === "0" || (length === undefined && req.headers["transfer-encoding"] === undefined);
  if (!empty && !req.is("application/json")) throw new BridgeError("unsupportedMediaType", "send the request body as application/json");
  const parsed = schema.safeParse(empty ? {} : req.body);
  if (!parsed.success) throw new BridgeError("invalidValue", describe("body", parsed.error));
  return parsed.data;
}

/** A numeric row id from the path; anything else cannot name a row, so it is a 404 like an unknown id. */
export function pathId(req: Request, what: string): number {
  const raw = String(req.params["id"]);
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new BridgeError("notFound", `${what} ${raw} not found`);
  return Number(raw);
}

/** For routes that take no query parameters: any is refused rather than ignored. */
export const noQuery = z.strictObject({});

/** `true` or `false` in a query string. */
export const booleanParam = z.enum(["true", "false"]).transform((v) => v === "true");

/** An integer in a query string, within bounds. */
export const integerParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A plain text filter value. */
export const textParam = z.string().min(1, "must not be empty").max(200);

/** An RFC 3339 time or a date, as the ISO UTC text the database stores (so text comparison orders it). */
export const timeParam = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { message: "must be an ISO 8601 date or date-time, e.g. 2026-01-31T09:00:00Z" })
  .transform((s) => new Date(s).toISOString());

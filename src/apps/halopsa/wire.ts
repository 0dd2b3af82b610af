/**
 * HaloPSA's wire format, parsed once at the edge. Field names and types are those of HaloPSA's
 * swagger ("HaloPSA API", served with the API documentation at <instance>/apidoc): agents are `Uname`, memberships
 * `UnameSection`, roles `NHD_Roles`, teams `SectionDetail`, tickets `Faults`. Nearly every field is
 * nullable there, so nulls become empty values here and inner code does not re-check.
 */
import { z } from "zod";

export const text = z
  .string()
  .nullish()
  .transform((v) => v ?? "");
const bool = z
  .boolean()
  .nullish()
  .transform((v) => v ?? false);

/** swagger NHD_Roles: `id` is a GUID string. */
export const roleSchema = z.object({ id: z.string().min(1), name: text });
export type HaloRole = z.infer<typeof roleSchema>;

/** swagger SectionDetail. */
export const teamSchema = z.object({ id: z.number().int(), name: text, inactive: bool });
export type HaloTeam = z.infer<typeof teamSchema>;

/** swagger UnameSection (an agent's membership of a team). */
const membershipSchema = z.object({ team_id: z.number().int().nullish(), team_name: text });

export const agentSchema = z.object({
  id: z.number().int(),
  name: text,
  firstname: text,
  surname: text,
  email: text,
  isdisabled: bool,
  team: text,
  teams: z
    .array(membershipSchema)
    .nullish()
    .transform((v) => v ?? []),
  /** null when the response left roles out (GET /Agent without `includeroles=true`). */
  roles: z
    .array(roleSchema)
    .nullish()
    .transform((v) => v ?? null),
  /** swagger Uname.licence_type is int32. */
  licence_type: z
    .number()
    .int()
    .nullish()
    .transform((v) => v ?? null),
  isapiagent: bool,
  lastlogindate: z
    .string()
    .nullish()
    .transform((v) => v ?? null),
});
export type HaloAgent = z.infer<typeof agentSchema>;

/** What `POST /api/Agent` accepts per element: no `id` creates, an `id` updates only the fields sent. */
export interface HaloAgentWrite {
  readonly id?: number;
  readonly name?: string;
  readonly firstname?: string;
  readonly surname?: string;
  readonly email?: string;
  readonly isdisabled?: boolean;
  /** The default team, by name. */
  readonly team?: string;
  readonly teams?: readonly { readonly team_id: number; readonly team_name: string }[];
  readonly roles?: readonly { readonly id: string; readonly name: string }[];
  readonly licence_type?: number | null;
}

export const ticketSchema = z.object({
  id: z.number().int(),
  summary: text,
  agent_id: z
    .number()
    .int()
    .nullish()
    .transform((v) => v ?? 0),
  team: text,
});
export type HaloTicket = z.infer<typeof ticketSchema>;

/** HaloPSA API swagger (Halo API v2), GET /Tickets with `pageinate=true`: `{record_count, tickets:[...]}`, one shape for every ticket view. */
export const ticketPageOf = <T extends z.ZodTypeAny>(ticket: T) => z.object({ record_count: z.number().int().nonnegative(), tickets: z.array(ticket) });
export const ticketPageSchema = ticketPageOf(ticketSchema);

/** docs/vendor-facts.md: a one-element POST answers with the object; a longer one is read as an array. */
export function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([z.array(item), item.transform((v) => [v])]);
}

/**
 * docs/vendor-facts.md: the list layout of `GET /api/Team` and `GET /api/Roles` is unconfirmed; HaloAPI's
 * New-HaloGETRequest.ps1 takes `response.<key>` when present, else the response itself. So do we.
 */
export function bareOrWrapped<T extends z.ZodType>(item: T, key: string) {
  return z.union([z.array(item), z.object({ [key]: z.array(item) }).transform((o) => o[key] as z.infer<T>[])]);
}

/** RFC 6749 §5.1 token response; `expires_in` is seconds (some servers send it as a string). */
export const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
});

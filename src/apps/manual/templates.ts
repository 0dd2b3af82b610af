/**
 * Templates for apps without an API: each app's roles, and for each action the task title and the
 * step-by-step instructions a person follows in the portal. Placeholders are filled from the user:
 * {name} {email} {userName} {role} {previousRole} {portalUrl}.
 *
 * Built in: Huntress (docs/vendor-facts.md: two fixed roles, invite by hand, at least one Account Admin), and
 * an invite-based MSSP portal modelled on ManageEngine Log360 Cloud (invite → unconfirmed →
 * enabled ⇄ disabled → deleted, with reinvite). Any other portal is declared in config in the
 * same shape.
 */
import { z } from "zod";


const step = z.object({ title: z.string().min(1), steps: z.array(z.string().min(1)).min(1) }).strict();

export const templateSchema = z
  .object({
    /** Shown in task titles: "Invite Ada Lovelace to {label}". */
    label: z.string().min(1),
    portalUrl: z.string().min(1).optional(),
    roles: z.array(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/), label: z.string().min(1) }).strict()).min(1),
    /** A role the app must always keep at least one confirmed holder of (Huntress: Account Admin). */
    keepOneOf: z.string().optional(),
    /** How access is taken away: remove the user, or disable it (portals that keep disabled users). */
    revoke: z.enum(["remove", "disable"]),
    actions: z
      .object({
        invite: step,
        confirm: step,
        changeRole: step.optional(),
        remove: step.optional(),
        disable: step.optional(),
        enable: step.optional(),
        reinvite: step.optional(),
        delete: step.optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (!t.actions[t.revoke]) ctx.addIssue({ code: "custom", path: ["actions", t.revoke], message: `revoke is "${t.revoke}" but the template has no ${t.revoke} action` });
    if (t.keepOneOf !== undefined && !t.roles.some((r) => r.name === t.keepOneOf)) {
      ctx.addIssue({ code: "custom", path: ["keepOneOf"], message: `"${t.keepOneOf}" is not one of the template's roles` });
    }
  });

export type Template = z.infer<typeof templateSchema>;

export const builtInTemplates: Record<string, Template> = {
  huntress: {
    label: "Huntress",
    portalUrl: "https://huntress.io",
    roles: [
      { name: "admin", label: "Account Admin" },
      { name: "standard", label: "Standard User" },
    ],
    keepOneOf: "admin",
    revoke: "remove",
    actions: {
      invite: {
        title: "Invite {name} to Huntress as {role}",
        steps: [
          "Sign in to {portalUrl} as an Account Admin (only Account Admins manage users).",
          "Open Settings › Users and choose Invite User.",
          "Email: {email}",
          "Role: {role}",
          "Choose Send Invite, then mark this task done.",
        ],
      },
      confirm: {
        title: "Confirm {name} accepted the Huntress invitation",
        steps: [
          "Open Settings › Users in {portalUrl} and find {email}.",
          "When the user shows as active (the invitation was accepted), mark this task done.",
          "If the invitation expired, send it again from the same page first.",
        ],
      },
      changeRole: {
        title: "Change {name}'s Huntress role from {previousRole} to {role}",
        steps: ["Open Settings › Users in {portalUrl} and find {email}.", "Edit the user and set the role to {role}.", "Save, then mark this task done."],
      },
      remove: {
        title: "Remove {name} from Huntress",
        steps: ["Open Settings › Users in {portalUrl} and find {email}.", "Choose Remove and confirm.", "Mark this task done."],
      },
    },
  },
  "invite-portal": {
    label: "the portal",
    roles: [{ name: "user", label: "Portal User" }],
    revoke: "disable",
    actions: {
      invite: {
        title: "Add {name} to {label} as {role}",
        steps: [
          "Sign in to {portalUrl} as the portal admin.",
          "Open Settings › Admin › Portal User Management and choose Add User.",
          "Name: {name}",
          "Email: {email} (the portal sends the invitation)",
          "Role: {role}",
          "Save, then mark this task done. The user stays unconfirmed until they accept.",
        ],
      },
      confirm: {
        title: "Confirm {name} accepted the {label} invitation",
        steps: ["In Portal User Management, find {email}.", "When the user shows as enabled (no longer unconfirmed), mark this task done."],
      },
      changeRole: {
        title: "Change {name}'s role in {label} from {previousRole} to {role}",
        steps: ["In Portal User Management, edit {email}.", "Set the role to {role}, save, and mark this task done."],
      },
      disable: {
        title: "Disable {name} in {label}",
        steps: ["In Portal User Management, find {email}.", "Choose Disable, then mark this task done."],
      },
      enable: {
        title: "Enable {name} in {label} again",
        steps: ["In Portal User Management, find {email} (disabled).", "Choose Enable, then mark this task done."],
      },
      reinvite: {
        title: "Send {name} a new {label} invitation",
        steps: ["In Portal User Management, find {email} (unconfirmed).", "Choose Reinvite, then mark this task done."],
      },
      delete: {
        title: "Delete {name} from {label}",
        steps: [
          "In Portal User Management, find {email}.",
          "Choose Delete (for an unconfirmed user this also invalidates the invitation), then mark this task done.",
        ],
      },
    },
  },
};

export interface Placeholders {
  readonly name: string;
  readonly email: string;
  readonly userName: string;
  readonly role: string;
  readonly previousRole: string;
  readonly portalUrl: string;
  readonly label: string;
}

export function fill(text: string, values: Placeholders): string {
  return text.replace(/\{(name|email|userName|role|previousRole|portalUrl|label)\}/g, (_m, key: keyof Placeholders) => values[key]);
}

export function roleLabel(template: Template, role: string | null): string {
  if (role === null) return "none";
  return template.roles.find((r) => r.name === role)?.label ?? role;
}

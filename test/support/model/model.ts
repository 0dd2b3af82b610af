/**
 * The model of the provisioning loop's inputs: which SCIM users exist (by slot), their userName,
 * email, active flag and groups, and the rules in force. What the bridge should achieve is derived
 * here from the model alone (never from the bridge's code): who is granted which role, and which
 * users share a person's address once it is folded.
 */
import { ADMINS, AGENTS } from "../provisioning.js";

/** Model users are named by slot so a counterexample reads "create u1 … delete u1 … create u1 again". */
export const SLOTS = ["u1", "u2", "u3"] as const;
export type Slot = (typeof SLOTS)[number];

export const GROUPS = [ADMINS, AGENTS] as const;
export type GroupName = (typeof GROUPS)[number];

export type Role = "admin" | "agent";
/** The app's roles in precedence order (rigConfig): a user granted both is an admin. */
export const ROLE_PRECEDENCE: readonly Role[] = ["admin", "agent"];
/** What each role looks like on a HaloPSA agent (rigConfig's app roles). */
export const ROLE_IN_HALOPSA: Readonly<Record<Role, { readonly haloRoles: readonly string[]; readonly teams: readonly string[] }>> = {
  admin: { haloRoles: ["Administrator"], teams: ["2nd Line"] },
  agent: { haloRoles: ["Agent"], teams: ["1st Line"] },
};

/** The rule lists a restart can switch between. */
export const RULE_SETS = {
  standard: [
    { group: ADMINS, role: "admin" },
    { group: AGENTS, role: "agent" },
  ],
  swapped: [
    { group: ADMINS, role: "agent" },
    { group: AGENTS, role: "admin" },
  ],
  agentsOnly: [{ group: AGENTS, role: "agent" }],
} as const satisfies Record<string, readonly { group: GroupName; role: Role }[]>;
export type RuleSet = keyof typeof RULE_SETS;

export function describeRules(set: RuleSet): string {
  return RULE_SETS[set].map((r) => `${r.group}→${r.role}`).join(", ");
}

/** The people addresses are made of; "zoé" carries the é that NFKC composes. */
export const PEOPLE = ["ann", "bob", "zo\u00e9"] as const;
export type Person = (typeof PEOPLE)[number];

/** Ways one person's address can be written that fold to the same thing. */
export const SPELLINGS = ["plain", "upper", "spaced", "fullwidth", "decomposed"] as const;
export type Spelling = (typeof SPELLINGS)[number];

/** An address as an IdP (or a HaloPSA admin) might write it. */
export function spell(person: Person, spelling: Spelling): string {
  const plain = `${person}@example.com`;
  switch (spelling) {
    case "plain":
      return plain;
    case "upper":
      return plain.toUpperCase();
    case "spaced":
      return ` ${plain} `;
    case "fullwidth":
      // Full-width Latin letters (U+FF41…) in the local part: NFKC maps them back to ASCII.
      return plain.replace(/^[^@]+/, (local) => local.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x61 + 0xff41)));
    case "decomposed":
      return plain.normalize("NFD");
  }
}

/** The fold two addresses of one person agree on: trim, NFKC, lower case. */
export function foldEmail(email: string): string {
  return email.trim().normalize("NFKC").toLowerCase();
}

/** A string as a counterexample should show it: quoted, with combining marks and odd spaces visible. */
export function show(s: string): string {
  return JSON.stringify(s).replace(/[\u0300-\u036f\u00a0\u2000-\u200f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export interface ModelUser {
  readonly slot: Slot;
  userName: string;
  email: string;
  active: boolean;
  readonly groups: Set<GroupName>;
}

export interface ModelConfig {
  readonly enforceDrift: boolean;
  /** The app's ssoEmailMustMatch: the agent's address is the login (userName) when it is an address. */
  readonly ssoEmailMustMatch: boolean;
}

export class ProvisioningModel {
  readonly users = new Map<Slot, ModelUser>();
  rules: RuleSet = "standard";

  constructor(readonly config: ModelConfig) {}

  /** The role the rules grant an active user (the first in precedence of every matching rule), else null. */
  grantOf(user: ModelUser): Role | null {
    if (!user.active) return null;
    const roles = RULE_SETS[this.rules].filter((r) => user.groups.has(r.group)).map((r) => r.role);
    return ROLE_PRECEDENCE.find((r) => roles.includes(r)) ?? null;
  }

  /**
   * The address the user's agent is for, folded: with ssoEmailMustMatch the login (when it is an
   * address, as docs/vendor-facts.md says SAML sign-in needs), else the email.
   */
  personKey(user: ModelUser): string {
    const address = this.config.ssoEmailMustMatch && user.userName.includes("@") ? user.userName : user.email;
    return foldEmail(address);
  }

  /** Granted users by folded address: where a group has several, exactly one may own the agent. */
  grantedByPerson(): Map<string, ModelUser[]> {
    const out = new Map<string, ModelUser[]>();
    for (const u of this.users.values()) {
      if (this.grantOf(u) === null) continue;
      const key = this.personKey(u);
      out.set(key, [...(out.get(key) ?? []), u]);
    }
    return out;
  }
}

/**
 * Drift: where an app differs from what the bridge believes (the identity map) or wants (the
 * rules). Pure: compares what the app reported with the map and with wanted access by email.
 */
import type { RemoteAccount } from "../domain/connector.js";
import type { DriftItem } from "../db/drift.js";
import { fold } from "../domain/folding.js";
import type { AppAccount } from "../domain/model.js";

export type FoundDrift = Omit<DriftItem, "detectedAt" | "app">;

/** A directory user who is granted the app, by folded email. */
export interface GrantedUser {
  readonly userId: string;
  readonly role: string;
}

export function findDrift(
  remote: readonly RemoteAccount[],
  accounts: readonly AppAccount[],
  grantedByEmail: ReadonlyMap<string, GrantedUser>,
): FoundDrift[] {
  const byExternal = new Map(accounts.filter((a) => a.externalId !== null).map((a) => [a.externalId!, a]));
  const seen = new Set<string>();
  const items: FoundDrift[] = [];
  for (const r of remote) {
    seen.add(r.externalId);
    const account = byExternal.get(r.externalId);
    const base = { externalId: r.externalId, email: r.email };
    if (!account) {
      if (!r.enabled) continue;
      const granted = grantedByEmail.get(fold(r.email));
      items.push(
        granted
          ? { ...base, kind: "unlinked", userId: granted.userId, detail: { name: r.name, wantedRole: granted.role } }
          : { ...base, kind: "orphan", userId: null, detail: { name: r.name, lastLoginAt: r.lastLoginAt } },
      );
      continue;
    }
    const mapped = account.state === "active" || account.state === "invited" || account.state === "pending";
    if (mapped && !r.enabled) {
      items.push({ ...base, kind: "disabled-outside", userId: account.userId, detail: { name: r.name } });
    } else if (!mapped && r.enabled) {
      items.push({ ...base, kind: "enabled-outside", userId: account.userId, detail: { name: r.name, mapState: account.state } });
    } else if (mapped) {
      const changes: Record<string, { expected: unknown; actual: unknown }> = {};
      if (account.profile && fold(account.profile.email) !== fold(r.email)) changes["email"] = { expected: account.profile.email, actual: r.email };
      if (account.profile && account.profile.displayName !== r.name) changes["name"] = { expected: account.profile.displayName, actual: r.name };
      if (r.role !== null && r.role !== account.role) changes["role"] = { expected: account.role, actual: r.role };
      if (Object.keys(changes).length > 0) items.push({ ...base, kind: "changed-outside", userId: account.userId, detail: changes });
    }
  }
  for (const a of accounts) {
    if (a.externalId !== null && (a.state === "active" || a.state === "disabled") && !seen.has(a.externalId)) {
      items.push({ kind: "missing", externalId: a.externalId, userId: a.userId, email: a.profile?.email ?? null, detail: { mapState: a.state } });
    }
  }
  return items;
}

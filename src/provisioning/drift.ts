/**
 * Drift: where an app differs from what the bridge believes (the identity map) or wants (the
 * rules). Pure: compares what the app reported with the live links of its instance and with
 * wanted access by matching key. Compared per account, never through a map that would let one
 * link hide another.
 */
import type { DriftItem } from "../db/drift.js";
import type { RemoteAccount } from "../domain/connector.js";
import { matchingKey } from "../domain/folding.js";
import type { AppAccount } from "../domain/model.js";

export type FoundDrift = Omit<DriftItem, "detectedAt" | "app">;

/** A directory user who is granted the app, by matching key of email. */
export interface GrantedUser {
  readonly userId: string;
  readonly role: string;
}

const holding = (a: AppAccount) => a.externalId !== null && a.state !== "removed";

export function findDrift(
  remote: readonly RemoteAccount[],
  links: readonly AppAccount[],
  grantedByEmail: ReadonlyMap<string, GrantedUser>,
  userNameOf: (userId: string) => string | null,
): FoundDrift[] {
  const live = links.filter((a) => a.releasedAt === null);
  const byAccount = new Map<string, AppAccount[]>();
  for (const a of live.filter(holding)) {
    const key = matchingKey(a.externalId!);
    byAccount.set(key, [...(byAccount.get(key) ?? []), a]);
  }
  const items: FoundDrift[] = [];
  const seen = new Set<string>();
  for (const r of remote) {
    const key = matchingKey(r.externalId);
    seen.add(key);
    const owners = byAccount.get(key) ?? [];
    const base = { externalId: r.externalId, email: r.email };
    if (owners.length > 1) {
      // The store's UNIQUE index forbids this; reported rather than resolved by picking one.
      items.push({ ...base, kind: "conflict", userId: owners[0]!.userId, detail: { name: r.name, users: owners.map((o) => ({ userId: o.userId, userName: userNameOf(o.userId) })) } });
      continue;
    }
    const account = owners[0];
    if (!account) {
      if (!r.enabled) continue;
      const granted = grantedByEmail.get(matchingKey(r.email));
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
      if (account.profile && matchingKey(account.profile.email) !== matchingKey(r.email)) changes["email"] = { expected: account.profile.email, actual: r.email };
      if (account.profile && account.profile.displayName !== r.name) changes["name"] = { expected: account.profile.displayName, actual: r.name };
      if (r.role !== null && r.role !== account.role) changes["role"] = { expected: account.role, actual: r.role };
      if (Object.keys(changes).length > 0) items.push({ ...base, kind: "changed-outside", userId: account.userId, detail: changes });
    }
  }
  for (const a of live) {
    if (a.externalId !== null && (a.state === "active" || a.state === "disabled") && !seen.has(matchingKey(a.externalId))) {
      items.push({ kind: "missing", externalId: a.externalId, userId: a.userId, email: a.profile?.email ?? null, detail: { mapState: a.state } });
    }
    if (a.conflictWith !== null) {
      // A user refused an account another user holds: a person must decide who it belongs to.
      items.push({
        kind: "conflict",
        externalId: null,
        userId: a.userId,
        email: a.profile?.email ?? null,
        detail: { userName: userNameOf(a.userId), heldBy: { userId: a.conflictWith, userName: userNameOf(a.conflictWith) }, error: a.lastError },
      });
    }
  }
  items.push(...duplicates(remote));
  return items;
}

/**
 * Two or more enabled accounts of one app with the same email by matching key (one usually
 * predates the bridge): one item per account, so each can be found by its own id, naming the others.
 */
function duplicates(remote: readonly RemoteAccount[]): FoundDrift[] {
  const byEmail = new Map<string, RemoteAccount[]>();
  for (const r of remote.filter((r) => r.enabled && r.email.trim() !== "")) {
    const key = matchingKey(r.email);
    byEmail.set(key, [...(byEmail.get(key) ?? []), r]);
  }
  return [...byEmail.values()]
    .filter((same) => same.length > 1)
    .flatMap((same) =>
      same.map((r) => ({
        kind: "duplicate" as const,
        externalId: r.externalId,
        userId: null,
        email: r.email,
        detail: { name: r.name, sameEmailAs: same.filter((o) => o !== r).map((o) => ({ externalId: o.externalId, name: o.name, email: o.email })) },
      })),
    );
}

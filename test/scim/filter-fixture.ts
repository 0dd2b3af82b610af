/**
 * Users and groups for the filter tests, written straight into the tables of db/migrations.ts
 * (mirroring db/directory.ts: data JSON, user_emails rows only for emails with a string value)
 * and rendered as the SCIM JSON that matchesFilter() sees (mirroring scim/render.ts).
 */
import { type Db } from "../../src/db/database.js";
import { fold } from "../../src/domain/folding.js";
import type { Json, JsonObject } from "../../src/domain/json.js";
import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from "../../src/scim/schema.js";

export interface EmailSpec {
  value?: string;
  type?: string;
  primary?: boolean;
  display?: string;
}

export interface UserSpec {
  userName: string;
  externalId?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  title?: string;
  active?: boolean;
  emails: EmailSpec[];
  phones: { value: string; type?: string }[];
  employeeNumber?: string;
  manager?: string;
  createdMs: number;
  updatedDeltaMs: number;
  version: number;
}

export interface GroupSpec {
  displayName: string;
  externalId?: string;
  /** Indexes into the user list (taken modulo its length). */
  members: number[];
  version: number;
}

export interface Dataset {
  users: UserSpec[];
  groups: GroupSpec[];
}

export interface Seeded {
  users: JsonObject[];
  groups: JsonObject[];
}

/** Drops undefined members, as coerce.ts never stores them. */
function compact(o: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

// Lower case like the server's randomUUID() ids: groups.value / members.value (caseExact=false)
// are looked up by the raw id column (see filter/sql.ts).
export const userId = (i: number): string => `us${i}x`;
export const groupId = (i: number): string => `gr${i}y`;

export function seed(db: Db, ds: Dataset): Seeded {
  const insertUser = db.prepare(
    `INSERT INTO users (id, user_name, user_name_key, external_id, active, data, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertEmail = db.prepare("INSERT INTO user_emails (user_pk, value_key, type_key, is_primary) VALUES (?, ?, ?, ?)");
  const insertGroup = db.prepare(
    `INSERT INTO groups (id, display_name, display_name_key, external_id, data, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMember = db.prepare("INSERT OR IGNORE INTO group_members (group_pk, user_pk) VALUES (?, ?)");

  const users: JsonObject[] = [];
  const groups: JsonObject[] = [];
  const userPks: number[] = [];
  const memberships = ds.groups.map((g) => [...new Set(ds.users.length === 0 ? [] : g.members.map((m) => m % ds.users.length))]);

  db.transaction(() => {
    ds.users.forEach((u, i) => {
      const name = compact({ givenName: u.givenName, familyName: u.familyName });
      const emails = u.emails.map((e) => compact({ ...e }));
      const phones = u.phones.map((p) => compact({ ...p }));
      const enterprise = compact({ employeeNumber: u.employeeNumber, manager: u.manager === undefined ? undefined : { value: u.manager } });
      const data = compact({
        userName: u.userName,
        externalId: u.externalId,
        name: Object.keys(name).length ? name : undefined,
        displayName: u.displayName,
        title: u.title,
        active: u.active,
        emails: emails.length ? emails : undefined,
        phoneNumbers: phones.length ? phones : undefined,
        [ENTERPRISE_USER]: Object.keys(enterprise).length ? enterprise : undefined,
      });
      const created = new Date(u.createdMs).toISOString();
      const updated = new Date(u.createdMs + u.updatedDeltaMs).toISOString();
      const pk = Number(
        insertUser.run(userId(i), u.userName, fold(u.userName), u.externalId ?? null, u.active ? 1 : 0, JSON.stringify(data), u.version, created, updated)
          .lastInsertRowid,
      );
      userPks.push(pk);
      for (const e of u.emails) {
        if (typeof e.value !== "string") continue;
        insertEmail.run(pk, fold(e.value), typeof e.type === "string" ? fold(e.type) : null, e.primary === true ? 1 : 0);
      }
      const userGroups = ds.groups.flatMap((g, gi) =>
        memberships[gi]?.includes(i) ? [{ value: groupId(gi), display: g.displayName, $ref: `https://x/Groups/${groupId(gi)}`, type: "direct" }] : [],
      );
      users.push({
        schemas: data[ENTERPRISE_USER] === undefined ? [CORE_USER] : [CORE_USER, ENTERPRISE_USER],
        id: userId(i),
        ...data,
        groups: userGroups,
        meta: { resourceType: "User", created, lastModified: updated, location: `https://x/Users/${userId(i)}`, version: `W/"${u.version}"` },
      });
    });

    ds.groups.forEach((g, gi) => {
      const created = new Date(Date.UTC(2021, 0, 1) + gi * 1000).toISOString();
      const data = compact({ displayName: g.displayName, externalId: g.externalId });
      const pk = Number(
        insertGroup.run(groupId(gi), g.displayName, fold(g.displayName), g.externalId ?? null, JSON.stringify(data), g.version, created, created)
          .lastInsertRowid,
      );
      const members: Json[] = [];
      for (const m of memberships[gi] ?? []) {
        insertMember.run(pk, userPks[m]);
        const u = ds.users[m];
        if (u) members.push({ value: userId(m), display: u.displayName ?? u.userName, $ref: `https://x/Users/${userId(m)}`, type: "User" });
      }
      groups.push({
        schemas: [CORE_GROUP],
        id: groupId(gi),
        ...data,
        members,
        meta: { resourceType: "Group", created, lastModified: created, location: `https://x/Groups/${groupId(gi)}`, version: `W/"${g.version}"` },
      });
    });
  })();
  return { users, groups };
}

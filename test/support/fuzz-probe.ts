/**
 * A second, read-only connection to a bridge's SQLite file that the fuzz tests use as their
 * ground truth: a digest of every directory table (to prove a refused request changed nothing),
 * row versions and audit counts (to prove an accepted write changed exactly one version and logged
 * exactly one event), and the end-of-run integrity checks.
 */
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import { fold } from "../../src/domain/folding.js";
import type { TestBridge } from "./bridge.js";
import { openReadOnly } from "./scim.js";

export type Kind = "Users" | "Groups";

/**
 * Every table a SCIM request may write, each read in a total order. group_members is WITHOUT
 * ROWID, so its primary key orders it; the others have a rowid that follows insertion.
 */
const TABLES: readonly { name: string; order: string }[] = [
  { name: "users", order: "pk" },
  { name: "user_emails", order: "rowid" },
  { name: "groups", order: "pk" },
  { name: "group_members", order: "group_pk, user_pk" },
  { name: "audit_events", order: "seq" },
  { name: "jobs", order: "id" },
];

const TABLE_OF: Record<Kind, "users" | "groups"> = { Users: "users", Groups: "groups" };

export class DirectoryProbe {
  private readonly db: Database.Database;
  private readonly reads: Database.Statement[];

  constructor(bridge: TestBridge) {
    this.db = openReadOnly(bridge);
    // The bridge's own connection registers scim_fold; this one needs it for the uniqueness check.
    this.db.function("scim_fold_check", { deterministic: true }, (v: unknown) => (typeof v === "string" ? fold(v) : v));
    this.reads = TABLES.map((t) => this.db.prepare(`SELECT * FROM ${t.name} ORDER BY ${t.order}`).raw());
  }

  /**
   * SHA-256 over every row of every table, column values in schema order. JSON keeps strings,
   * numbers and NULL apart, and a BLOB column (none today) would show as a Buffer object.
   */
  digest(): string {
    const hash = createHash("sha256");
    for (const [i, read] of this.reads.entries()) {
      hash.update(`\u0000${TABLES[i]!.name}\u0000`);
      for (const row of read.iterate()) hash.update(`${JSON.stringify(row)}\n`);
    }
    return hash.digest("hex");
  }

  auditCount(): number {
    return this.db.prepare("SELECT count(*) FROM audit_events").pluck().get() as number;
  }

  /** The row's version, or undefined when no such resource exists. */
  versionOf(kind: Kind, id: string): number | undefined {
    return this.db.prepare(`SELECT version FROM ${TABLE_OF[kind]} WHERE id = ?`).pluck().get(id) as number | undefined;
  }

  /** Ids in insertion order, so a generated index names the same resource on every run with one seed. */
  ids(kind: Kind): string[] {
    return this.db.prepare(`SELECT id FROM ${TABLE_OF[kind]} ORDER BY pk`).pluck().all() as string[];
  }

  /**
   * What must hold after any sequence of requests: SQLite's own checks, no dangling references
   * (foreign keys are declared, but a connection with foreign_keys off would not enforce them),
   * userName unique after case folding, and each user's email rows matching its stored emails.
   */
  integrityProblems(): string[] {
    const problems: string[] = [];
    const integrity = this.db.pragma("integrity_check", { simple: true });
    if (integrity !== "ok") problems.push(`integrity_check: ${String(integrity)}`);
    const fk = this.db.pragma("foreign_key_check") as unknown[];
    if (fk.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(fk)}`);
    const orphans: Record<string, string> = {
      "group_members without a user": "SELECT count(*) FROM group_members WHERE user_pk NOT IN (SELECT pk FROM users)",
      "group_members without a group": "SELECT count(*) FROM group_members WHERE group_pk NOT IN (SELECT pk FROM groups)",
      "user_emails without a user": "SELECT count(*) FROM user_emails WHERE user_pk NOT IN (SELECT pk FROM users)",
      "userName folded twice": "SELECT count(*) - count(DISTINCT scim_fold_check(user_name)) FROM users",
      "user_name_key not the folded userName": "SELECT count(*) FROM users WHERE user_name_key IS NOT scim_fold_check(user_name)",
      "userName column differs from the stored attributes": "SELECT count(*) FROM users WHERE user_name IS NOT json_extract(data, '$.userName')",
      "displayName column differs from the stored attributes":
        "SELECT count(*) FROM groups WHERE display_name IS NOT json_extract(data, '$.displayName')",
      "version below 1": "SELECT (SELECT count(*) FROM users WHERE version < 1) + (SELECT count(*) FROM groups WHERE version < 1)",
    };
    for (const [what, sql] of Object.entries(orphans)) {
      const n = this.db.prepare(sql).pluck().get() as number;
      if (n !== 0) problems.push(`${what}: ${n}`);
    }
    problems.push(...this.emailRowProblems(), ...this.encodingProblems());
    return problems;
  }

  /**
   * Every stored text is UTF-8. A JavaScript string with half a surrogate pair reaches SQLite as
   * bytes that are not (ED A0 80), and is served back as three U+FFFD.
   */
  private encodingProblems(): string[] {
    const columns: Record<string, readonly string[]> = {
      users: ["user_name", "user_name_key", "external_id", "data"],
      groups: ["display_name", "display_name_key", "external_id", "data"],
      user_emails: ["value_key", "type_key"],
      audit_events: ["before", "after"],
    };
    const problems: string[] = [];
    for (const [table, names] of Object.entries(columns)) {
      for (const name of names) {
        const read = this.db.prepare(`SELECT CAST(${name} AS BLOB) FROM ${table} WHERE ${name} IS NOT NULL`).pluck();
        let bad = 0;
        for (const bytes of read.iterate()) if (!isUtf8(bytes as Buffer)) bad++;
        if (bad > 0) problems.push(`${table}.${name}: ${bad} values are not UTF-8`);
      }
    }
    return problems;
  }

  /** user_emails is derived from each user's `emails` (db/directory.ts): one row per element with a string value. */
  private emailRowProblems(): string[] {
    const rows = this.db.prepare("SELECT pk, data FROM users ORDER BY pk").all() as { pk: number; data: string }[];
    const count = this.db.prepare("SELECT count(*) FROM user_emails WHERE user_pk = ?").pluck();
    const problems: string[] = [];
    for (const r of rows) {
      const emails = (JSON.parse(r.data) as { emails?: unknown }).emails;
      const expected = Array.isArray(emails) ? emails.filter((e) => typeof (e as { value?: unknown } | null)?.value === "string").length : 0;
      const actual = count.get(r.pk) as number;
      if (actual !== expected) problems.push(`user pk ${r.pk} has ${actual} user_emails rows for ${expected} emails`);
    }
    return problems;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Watches every better-sqlite3 database of the process for use while a piece of code runs: spies
 * on the methods everything that touches SQLite goes through (Database.prototype prepare, exec,
 * pragma, transaction; Statement.prototype run, get, all, iterate), so a connector that opened
 * its own handle or was handed one would be seen as well as one that borrowed the bridge's.
 * What the caller itself does meanwhile on the watched code's behalf (the worker's read-only
 * views) runs `aside` and is not counted.
 */
import Database from "better-sqlite3";
import { vi, type MockInstance } from "vitest";

const DATABASE_METHODS = ["prepare", "exec", "pragma", "transaction"] as const;
const STATEMENT_METHODS = ["run", "get", "all", "iterate"] as const;

export class DatabaseWatch {
  /** Every use seen while watching, e.g. "prepare INSERT INTO tasks ...". */
  private seen: string[] | null = null;
  private asideDepth = 0;
  private readonly spies: MockInstance[] = [];

  /** `db`: any open database, to reach the (unexported) Statement prototype. */
  constructor(db: Database.Database) {
    const statement = Object.getPrototypeOf(db.prepare("SELECT 1")) as Record<string, unknown>;
    for (const name of DATABASE_METHODS) this.spy(Database.prototype as unknown as Record<string, unknown>, name, `Database.${name}`);
    for (const name of STATEMENT_METHODS) this.spy(statement, name, `Statement.${name}`);
  }

  private spy(proto: Record<string, unknown>, name: string, label: string): void {
    const original = proto[name] as (...args: unknown[]) => unknown;
    const note = (args: unknown[]): void => {
      if (this.seen && this.asideDepth === 0) this.seen.push(`${label} ${typeof args[0] === "string" ? args[0].slice(0, 60) : ""}`.trim());
    };
    const spy = vi.spyOn(proto as Record<string, (...args: unknown[]) => unknown>, name);
    spy.mockImplementation(function (this: unknown, ...args: unknown[]) {
      note(args);
      return original.apply(this, args);
    });
    this.spies.push(spy);
  }

  /** Runs `fn` and returns what it did to any database, with its result. */
  async during<T>(fn: () => Promise<T>): Promise<{ value: T; used: string[] }> {
    if (this.seen) throw new Error("DatabaseWatch.during does not nest");
    const used: string[] = [];
    this.seen = used;
    try {
      return { value: await fn(), used };
    } finally {
      this.seen = null;
    }
  }

  /** Runs `fn` without counting: the caller's own reads made for the watched code. */
  aside<T>(fn: () => T): T {
    this.asideDepth++;
    try {
      return fn();
    } finally {
      this.asideDepth--;
    }
  }

  restore(): void {
    for (const s of this.spies) s.mockRestore();
  }
}

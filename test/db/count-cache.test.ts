/**
 * totalResults is remembered between pages (src/db/count-cache.ts), so it must never be stale:
 * every way the rows can change — a write on this connection, a commit by another process, a
 * rolled-back transaction — gives the true count on the next read.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { openDatabase } from "../../src/db/database.js";
import { Directory } from "../../src/db/directory.js";

const ALL = ["1 = 1", []] as const;
const ACTIVE = ["u.active = ?", [1]] as const;

function store(users: number): { file: string; directory: Directory } {
  const file = join(mkdtempSync(join(tmpdir(), "scim-bridge-counts-")), "bridge.db");
  const directory = new Directory(openDatabase(file), systemClock);
  directory.write(() => {
    for (let i = 0; i < users; i++) directory.insertUser({ userName: `u${i}@example.com`, active: i % 2 === 0 });
  });
  return { file, directory };
}

describe("the remembered totalResults", () => {
  it("follows this connection's writes, per filter and per parameter", () => {
    const { directory } = store(10);
    expect(directory.users.count(...ALL)).toBe(10);
    expect(directory.users.count(...ACTIVE)).toBe(5);
    expect(directory.users.count("u.active = ?", [0])).toBe(5);
    const row = directory.write(() => directory.insertUser({ userName: "new@example.com", active: true }));
    expect(directory.users.count(...ALL)).toBe(11);
    expect(directory.users.count(...ACTIVE)).toBe(6);
    directory.write(() => directory.deleteUser(row.pk));
    expect(directory.users.count(...ALL)).toBe(10);
  });

  it("follows a commit by another connection (the CLI on the same file)", () => {
    const { file, directory } = store(3);
    expect(directory.users.count(...ALL)).toBe(3);
    const other = new Directory(openDatabase(file), systemClock);
    other.write(() => other.insertUser({ userName: "cli@example.com", active: true }));
    expect(directory.users.count(...ALL)).toBe(4);
  });

  it("is not fooled by a rolled-back transaction", () => {
    const { directory } = store(3);
    expect(() =>
      directory.write(() => {
        directory.insertUser({ userName: "gone@example.com", active: true });
        // Counted inside the transaction: 4, but that count must not outlive the rollback.
        expect(directory.users.count(...ALL)).toBe(4);
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    expect(directory.users.count(...ALL)).toBe(3);
  });

  it("follows group membership changes in a filter on members", () => {
    const { directory } = store(4);
    const group = directory.write(() => directory.insertGroup({ displayName: "Techs" }));
    const inGroup = ["u.pk IN (SELECT user_pk FROM group_members)", []] as const;
    expect(directory.users.count(...inGroup)).toBe(0);
    const ids = directory.users.list({ where: "1 = 1", params: [], orderBy: "u.pk", limit: 2, offset: 0 }).map((u) => u.id);
    directory.write(() => directory.addMembers(group.pk, { ids }));
    expect(directory.users.count(...inGroup)).toBe(2);
  });
});

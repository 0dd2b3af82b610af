/**
 * The reconciler reads the whole directory through snapshotPages (src/db/directory-snapshots.ts):
 * every user exactly once, with exactly the groups snapshot() gives them, whatever the page size,
 * gaps left by deleted users included.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { openDatabase } from "../../src/db/database.js";
import { Directory } from "../../src/db/directory.js";
import { DirectorySnapshots } from "../../src/db/directory-snapshots.js";

function directoryOf(users: number): { directory: Directory; snapshots: DirectorySnapshots; ids: string[] } {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), "scim-bridge-snapshots-")), "bridge.db"));
  const directory = new Directory(db, systemClock);
  const ids = directory.write(() => {
    const rows = Array.from({ length: users }, (_, i) => directory.insertUser({ userName: `u${i}@example.com`, active: i % 3 !== 0 }));
    const all = directory.insertGroup({ displayName: "Everyone", externalId: "ext-everyone" });
    directory.addMembers(all.pk, { ids: rows.filter((_, i) => i % 2 === 0).map((r) => r.id) });
    const some = directory.insertGroup({ displayName: "Some" });
    directory.addMembers(some.pk, { ids: rows.filter((_, i) => i % 5 === 0).map((r) => r.id) });
    // Gaps in the row keys, across page boundaries.
    for (const r of rows.filter((_, i) => i % 7 === 3)) directory.deleteUser(r.pk);
    return rows.filter((_, i) => i % 7 !== 3).map((r) => r.id);
  });
  return { directory, snapshots: new DirectorySnapshots(db), ids };
}

describe("snapshotPages", () => {
  const { snapshots, ids } = directoryOf(57);

  it.each([1, 4, 10, 56, 500])("gives every user once, in directory order, with their groups (page of %i)", (size) => {
    const pages = [...snapshots.snapshotPages(size)];
    expect(pages.every((p) => p.length > 0 && p.length <= size)).toBe(true);
    const entries = pages.flat();
    expect(entries.map((e) => e.user.id)).toEqual(ids);
    for (const e of entries) expect(e).toEqual(snapshots.snapshot(e.user.id));
    expect(entries.some((e) => e.groups.length === 2)).toBe(true);
    expect(entries.some((e) => e.groups.length === 0)).toBe(true);
  });

  it("reads a page only when asked, so a user added meanwhile is seen", () => {
    const fresh = directoryOf(12);
    const seen: string[][] = [];
    let late = "";
    for (const page of fresh.snapshots.snapshotPages(5)) {
      seen.push(page.map((e) => e.user.id));
      if (late === "") late = fresh.directory.write(() => fresh.directory.insertUser({ userName: "late@example.com" })).id;
    }
    expect(seen[0]).toEqual(fresh.ids.slice(0, 5));
    expect(seen.flat()).toEqual([...fresh.ids, late]);
  });
});

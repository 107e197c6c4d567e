import { readMigrationFiles } from "drizzle-orm/migrator";
import { describe, expect, it } from "vitest";
import { journalOrderProblems, readJournal } from "../../lib/migrationFiles.js";
import { MIGRATIONS_FOLDER } from "../../lib/migrations.js";

describe("the migrations journal (runs in CI with npm test)", () => {
  it("has every `when` later than its predecessor's, so Drizzle never skips a migration", () => {
    expect(journalOrderProblems(readJournal(MIGRATIONS_FOLDER))).toEqual([]);
  });

  it("the check catches an equal or older `when`", () => {
    const problems = journalOrderProblems([
      { tag: "0000_a", when: 10 },
      { tag: "0001_b", when: 10 },
      { tag: "0002_c", when: 5 },
      { tag: "0003_d", when: 11 },
    ]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^0001_b: journal "when" 10 is not later than 0000_a's 10/);
    expect(problems[1]).toMatch(/^0002_c:/);
  });

  it("hashes each file exactly as drizzle-orm's migrator does", () => {
    const ours = readJournal(MIGRATIONS_FOLDER).map((m) => [m.hash, m.when]);
    const theirs = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => [
      m.hash,
      m.folderMillis,
    ]);
    expect(ours).toEqual(theirs);
  });
});

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { beforeEach, describe, expect, it } from "vitest";
import { openClient } from "../../lib/db.js";
import { readJournal } from "../../lib/migrationFiles.js";
import { MIGRATIONS_FOLDER } from "../../lib/migrations.js";
import { runScript } from "./run.js";

const TAGS = readJournal(MIGRATIONS_FOLDER).map((m) => m.tag);
const [FIRST, LAST] = [TAGS[0] ?? "", TAGS.at(-1) ?? ""];

let url: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  url = `file:${join(mkdtempSync(join(tmpdir(), "votes-ops-db-")), "votes.db")}`;
  env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: "silent" };
});

const run = (script: string, ...args: string[]) => runScript(`scripts/${script}.ts`, args, env);

async function query(sql: string) {
  const client = openClient({ url, authToken: undefined }, 1);
  try {
    return (await client.execute(sql)).rows.map((row) => Array.from(row as ArrayLike<unknown>));
  } finally {
    client.close();
  }
}

const schema = () =>
  query(
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations' ORDER BY name",
  );
const ledger = () => query("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at");

describe("migration scripts (db:migrate, db:status, db:rollback, db:force)", () => {
  it("status shows every migration pending, then applied, with the version", async () => {
    const before = await run("db-status");
    expect(before.code).toBe(0);
    for (const tag of TAGS) expect(before.stdout).toMatch(new RegExp(`${tag}\\s+pending`));
    expect(before.stdout).toContain("version none");

    expect((await run("db-migrate")).code).toBe(0);
    const after = await run("db-status");
    for (const tag of TAGS) expect(after.stdout).toMatch(new RegExp(`${tag}\\s+applied`));
    expect(after.stdout).toContain(`version ${LAST} (${TAGS.length} of ${TAGS.length} applied`);
  });

  it("rolls back every migration one by one, and migrating again gives the same schema", async () => {
    await run("db-migrate");
    const migrated = await schema();
    const rows = await ledger();
    for (let i = TAGS.length - 1; i >= 0; i--) {
      const result = await run("db-rollback");
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain(`rolled back ${TAGS[i]}`);
      expect(await ledger()).toHaveLength(i);
    }
    expect(await schema()).toEqual([]);
    expect((await run("db-rollback")).stdout).toContain("nothing to roll back");

    expect((await run("db-migrate")).code).toBe(0);
    expect(await schema()).toEqual(migrated);
    expect(await ledger()).toEqual(rows);
    // The writer_state row the last migration seeds is back too.
    expect(await query("SELECT id, fence_token FROM writer_state")).toEqual([[1, 0]]);
  });

  it("records exactly what Drizzle's migrator records: sha256 of the file, created_at = when", async () => {
    await run("db-migrate");
    const drizzle = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
    const expected = drizzle.map((m) => [m.hash, m.folderMillis]);
    expect(await ledger()).toEqual(expected);
    // db:force writes the same rows Drizzle would.
    await run("db-force", "none");
    expect(await ledger()).toEqual([]);
    const forced = await run("db-force", LAST);
    for (const tag of TAGS) expect(forced.stdout).toContain(`marked ${tag} as applied`);
    expect(await ledger()).toEqual(expected);
  });

  it("force marks migrations without running them and says what it changed", async () => {
    const forced = await run("db-force", FIRST);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`marked ${FIRST} as applied (its SQL was not run)`);
    expect(await schema()).toEqual([]);
    const status = await run("db-status");
    expect(status.stdout).toContain(`version ${FIRST}`);
    expect(status.stdout).toMatch(new RegExp(`${LAST}\\s+pending`));

    expect((await run("db-force", FIRST)).stdout).toContain("nothing changed");
    const unknown = await run("db-force", "9999_nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toEqual([
      `unknown migration 9999_nope: use one of ${TAGS.join(", ")}, or none`,
    ]);
  });

  it("rollback refuses, changing nothing, when the last record is not in the journal", async () => {
    await run("db-migrate");
    const before = await ledger();
    const client = openClient({ url, authToken: undefined }, 1);
    await client.execute(
      "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('x', 9999999999999)",
    );
    client.close();
    const refused = await run("db-rollback");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^cannot roll back: the last applied migration .* is not in the journal\n$/,
    );
    expect((await ledger()).slice(0, before.length)).toEqual(before);
  });
});

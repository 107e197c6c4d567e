/**
 * Migration state, read the way Drizzle's migrator decides: a migration is pending when its
 * journal time is later than the newest one recorded in `__drizzle_migrations`.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Client } from "@libsql/client";
import { readMigrationFiles } from "drizzle-orm/migrator";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));
export const MIGRATIONS_TABLE = "__drizzle_migrations";

export interface MigrationState {
  applied: number;
  pending: { tag: string; when: number }[];
}

/** Which migrations of the folder the database has not applied yet. */
export async function migrationState(
  client: Client,
  folder = MIGRATIONS_FOLDER,
): Promise<MigrationState> {
  const files = readMigrationFiles({ migrationsFolder: folder });
  const journal = readFileSync(`${folder}/meta/_journal.json`, "utf8");
  const tags = (JSON.parse(journal) as { entries: { tag: string; when: number }[] }).entries;
  let newest = Number.NEGATIVE_INFINITY;
  let applied = 0;
  const table = await client.execute(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${MIGRATIONS_TABLE}'`,
  );
  if (table.rows.length > 0) {
    const rows = await client.execute(`SELECT created_at FROM ${MIGRATIONS_TABLE}`);
    applied = rows.rows.length;
    for (const row of rows.rows) newest = Math.max(newest, Number(row[0]));
  }
  const pending = files
    .map((file, i) => ({ tag: tags[i]?.tag ?? `#${i}`, when: file.folderMillis }))
    .filter((m) => m.when > newest);
  return { applied, pending };
}

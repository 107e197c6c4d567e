/**
 * Drizzle's bookkeeping table, `__drizzle_migrations`, read and written exactly as
 * drizzle-orm's libSQL migrator does: one row per applied migration, `hash` = sha256 of its file,
 * `created_at` = its journal `when`; the newest `created_at` decides what is pending. (Its `id`
 * column is declared `SERIAL`, which SQLite leaves NULL, so rows are addressed by rowid.)
 */
import type { Client, InStatement } from "@libsql/client";
import type { JournalMigration } from "./migrationFiles.js";

/** Drizzle's default bookkeeping table. */
export const MIGRATIONS_TABLE = "__drizzle_migrations";

/** The table as Drizzle creates it (same statement, so either may create it first). */
export const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at numeric
		)`;

export interface LedgerRow {
  rowid: number;
  hash: string;
  createdAt: number;
}

export type MigrationStatus =
  /** Recorded with the same hash as the file. */
  | "applied"
  /** Recorded, but the file changed since. */
  | "applied (file changed since)"
  /** Not recorded and later than the newest record: `db:migrate` will apply it. */
  | "pending"
  /** Not recorded but older than the newest record: Drizzle will never apply it. */
  | "skipped (older than the newest applied)";

export interface MigrationReport {
  migrations: (JournalMigration & { status: MigrationStatus; appliedAt?: LedgerRow })[];
  /** Rows that match no journal entry. */
  unknown: LedgerRow[];
  /** The newest applied migration's tag, as Drizzle sees it (undefined: none). */
  version: string | undefined;
}

/** The ledger rows, oldest first; [] when the table does not exist yet. */
export async function readLedger(client: Client): Promise<LedgerRow[]> {
  const table = await client.execute({
    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    args: [MIGRATIONS_TABLE],
  });
  if (table.rows.length === 0) return [];
  const rows = await client.execute(
    `SELECT rowid, hash, created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at, rowid`,
  );
  return rows.rows.map((row) => ({
    rowid: Number(row[0]),
    hash: String(row[1]),
    createdAt: Number(row[2]),
  }));
}

/** Each journal migration's status against the ledger. */
export function reportOf(
  journal: readonly JournalMigration[],
  ledger: LedgerRow[],
): MigrationReport {
  const newest = ledger.reduce(
    (max, row) => Math.max(max, row.createdAt),
    Number.NEGATIVE_INFINITY,
  );
  const matched = new Set<LedgerRow>();
  const migrations = journal.map((migration) => {
    const row = ledger.find((r) => r.createdAt === migration.when && !matched.has(r));
    if (row) {
      matched.add(row);
      const status: MigrationStatus =
        row.hash === migration.hash ? "applied" : "applied (file changed since)";
      return { ...migration, status, appliedAt: row };
    }
    const status: MigrationStatus =
      migration.when > newest ? "pending" : "skipped (older than the newest applied)";
    return { ...migration, status };
  });
  const newestRow = ledger.at(-1);
  const version = newestRow && journal.find((m) => m.when === newestRow.createdAt)?.tag;
  return {
    migrations,
    unknown: ledger.filter((r) => !matched.has(r)),
    version: newestRow ? (version ?? `unknown (created_at ${newestRow.createdAt})`) : undefined,
  };
}

export const recordStatement = (migration: JournalMigration): InStatement => ({
  sql: `INSERT INTO "${MIGRATIONS_TABLE}" ("hash", "created_at") VALUES (?, ?)`,
  args: [migration.hash, migration.when],
});

export const forgetStatement = (row: LedgerRow): InStatement => ({
  sql: `DELETE FROM "${MIGRATIONS_TABLE}" WHERE rowid = ?`,
  args: [row.rowid],
});

/** Runs statements in one transaction with foreign keys off, as Drizzle's migrator does. */
export async function runMigrationStatements(client: Client, statements: InStatement[]) {
  await client.migrate(statements);
}

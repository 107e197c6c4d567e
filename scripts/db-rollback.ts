/**
 * `npm run db:rollback` (the original's `make migrate-down`): reverts the last applied migration
 * by running its hand-written `migrations/down/<tag>.sql` and deleting its row from
 * `__drizzle_migrations`, in one transaction. Refuses when the down file is missing or empty.
 */
import { loadConfigOrExit } from "../lib/config.js";
import { openClient } from "../lib/db.js";
import { downPath, readDownStatements, readJournal } from "../lib/migrationFiles.js";
import { forgetStatement, readLedger, runMigrationStatements } from "../lib/migrationLedger.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { CliError, runCli } from "./cli.js";

const config = loadConfigOrExit();
await runCli(async () => {
  const client = openClient(config.database, 1);
  try {
    const ledger = await readLedger(client);
    const last = ledger.at(-1);
    if (!last) {
      console.log(`nothing to roll back: no migration is applied on ${config.database.url}`);
      return;
    }
    const migration = readJournal(MIGRATIONS_FOLDER).find((m) => m.when === last.createdAt);
    if (!migration) {
      throw new CliError(
        `cannot roll back: the last applied migration (created_at ${last.createdAt}) is not in the journal`,
      );
    }
    const file = downPath(MIGRATIONS_FOLDER, migration.tag);
    const statements = readDownStatements(MIGRATIONS_FOLDER, migration.tag);
    if (statements === undefined) {
      throw new CliError(`cannot roll back ${migration.tag}: there is no down file ${file}`);
    }
    if (statements.length === 0) {
      throw new CliError(`cannot roll back ${migration.tag}: ${file} has no statements yet`);
    }
    await runMigrationStatements(client, [...statements, forgetStatement(last)]);
    const previous = ledger.at(-2);
    const now =
      previous && readJournal(MIGRATIONS_FOLDER).find((m) => m.when === previous.createdAt);
    console.log(`rolled back ${migration.tag}; version is now ${now?.tag ?? "none"}`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new Error(`rollback failed on ${config.database.url}: ${(error as Error).message}`);
  } finally {
    client.close();
  }
});

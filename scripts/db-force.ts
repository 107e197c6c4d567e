/**
 * `npm run db:force -- <tag>` (the original's `make migrate-force`, for emergencies): records
 * every journal migration up to and including `<tag>` as applied and every later one as not
 * applied, without running any SQL. Says what it changed.
 */
import { loadConfigOrExit } from "../lib/config.js";
import { openClient } from "../lib/db.js";
import { readJournal } from "../lib/migrationFiles.js";
import {
  CREATE_LEDGER,
  forgetStatement,
  readLedger,
  recordStatement,
  runMigrationStatements,
} from "../lib/migrationLedger.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { CliError, runCli } from "./cli.js";

const config = loadConfigOrExit();
await runCli(async () => {
  const tag = process.argv[2];
  const journal = readJournal(MIGRATIONS_FOLDER);
  const tags = journal.map((m) => m.tag).join(", ");
  if (!tag) throw new CliError(`usage: npm run db:force -- <tag>  (one of: ${tags}, or none)`);
  const target =
    tag === "none" ? -1 : journal.findIndex((m) => m.tag === tag || m.tag.startsWith(`${tag}_`));
  if (target === -1 && tag !== "none")
    throw new CliError(`unknown migration ${tag}: use one of ${tags}, or none`);
  const client = openClient(config.database, 1);
  try {
    await client.execute(CREATE_LEDGER);
    const ledger = await readLedger(client);
    const statements = [];
    const changes: string[] = [];
    for (const migration of journal) {
      const rows = ledger.filter((row) => row.createdAt === migration.when);
      if (migration.idx <= target && rows.length === 0) {
        statements.push(recordStatement(migration));
        changes.push(`marked ${migration.tag} as applied (its SQL was not run)`);
      } else if (migration.idx > target && rows.length > 0) {
        statements.push(...rows.map(forgetStatement));
        changes.push(`marked ${migration.tag} as not applied (its SQL was not reverted)`);
      }
    }
    for (const row of ledger.filter((r) => !journal.some((m) => m.when === r.createdAt))) {
      statements.push(forgetStatement(row));
      changes.push(`removed a record not in the journal (created_at ${row.createdAt})`);
    }
    if (statements.length === 0) {
      console.log(`nothing changed: version is already ${tag}`);
      return;
    }
    await runMigrationStatements(client, statements);
    for (const change of changes) console.log(change);
    console.log(`version is now ${target === -1 ? "none" : journal[target]?.tag}`);
  } finally {
    client.close();
  }
});

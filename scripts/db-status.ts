/**
 * `npm run db:status` (the original's `make migrate-version`): each journal migration, applied or
 * pending, and the current version, on DATABASE_URL.
 */
import { loadConfigOrExit } from "../lib/config.js";
import { openClient } from "../lib/db.js";
import { readJournal } from "../lib/migrationFiles.js";
import { readLedger, reportOf } from "../lib/migrationLedger.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { runCli } from "./cli.js";

const config = loadConfigOrExit();
await runCli(async () => {
  const client = openClient(config.database, 1);
  try {
    const report = reportOf(readJournal(MIGRATIONS_FOLDER), await readLedger(client));
    const width = Math.max(...report.migrations.map((m) => m.tag.length), 10);
    console.log(`database ${config.database.url}`);
    for (const m of report.migrations) {
      console.log(`${m.tag.padEnd(width)}  ${m.status}`);
    }
    for (const row of report.unknown) {
      console.log(
        `${"?".padEnd(width)}  recorded but not in the journal (created_at ${row.createdAt})`,
      );
    }
    const applied = report.migrations.filter((m) => m.status.startsWith("applied")).length;
    const pending = report.migrations.filter((m) => m.status === "pending").length;
    console.log(
      `version ${report.version ?? "none"} (${applied} of ${report.migrations.length} applied, ${pending} pending)`,
    );
  } catch (error) {
    throw new Error(
      `cannot read the migration state of ${config.database.url}: ${(error as Error).message}`,
    );
  } finally {
    client.close();
  }
});

/**
 * `npm run db:check`: fails when the migrations folder would mislead Drizzle: a journal `when`
 * not later than its predecessor's (Drizzle silently skips such a migration), or a listed file
 * missing. Warns about migrations without a down file.
 */
import { existsSync } from "node:fs";
import { downPath, journalOrderProblems, readJournal } from "../lib/migrationFiles.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { CliError, runCli } from "./cli.js";

await runCli(() => {
  const journal = readJournal(MIGRATIONS_FOLDER);
  for (const m of journal) {
    if (!existsSync(downPath(MIGRATIONS_FOLDER, m.tag))) {
      console.warn(`warning: ${m.tag} has no down file; db:rollback will refuse to revert it`);
    }
  }
  const problems = journalOrderProblems(journal);
  if (problems.length > 0) throw new CliError(`migrations journal: ${problems.join("; ")}`);
  console.log(`migrations ok: ${journal.length} in order`);
});

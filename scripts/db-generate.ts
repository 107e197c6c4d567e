/**
 * `npm run db:generate -- --name <name> [--custom]` (the original's `make migrate-new`): runs
 * `drizzle-kit generate` from the schema in lib/schema.ts, then adds an empty down file
 * `migrations/down/<tag>.sql` for each new migration, and checks the journal order.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { downPath, journalOrderProblems, readJournal } from "../lib/migrationFiles.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { CliError, flagValue, runCli } from "./cli.js";

await runCli(() => {
  const args = process.argv.slice(2);
  const name = flagValue(args, "--name");
  if (!name || !/^[a-z0-9_]{1,60}$/.test(name)) {
    throw new CliError(
      "usage: npm run db:generate -- --name <name> [--custom]  (name: lower-case letters, digits, _)",
    );
  }
  const before = new Set(readJournal(MIGRATIONS_FOLDER).map((m) => m.tag));
  const kit = join(process.cwd(), "node_modules", ".bin", "drizzle-kit");
  const result = spawnSync(
    kit,
    ["generate", "--name", name, ...(args.includes("--custom") ? ["--custom"] : [])],
    { stdio: "inherit" },
  );
  if (result.error) throw new CliError(`cannot run drizzle-kit: ${result.error.message}`);
  if (result.status !== 0)
    throw new CliError(`drizzle-kit generate failed (exit ${result.status})`);
  const journal = readJournal(MIGRATIONS_FOLDER);
  const added = journal.filter((m) => !before.has(m.tag));
  if (added.length === 0) {
    console.log("no new migration (no schema change); use --custom for a hand-written one");
    return;
  }
  for (const migration of added) {
    const down = downPath(MIGRATIONS_FOLDER, migration.tag);
    if (!existsSync(down)) {
      writeFileSync(
        down,
        `-- Reverts ${migration.tag}: write the statements that undo ${migration.tag}.sql,\n` +
          "-- one per chunk, chunks split by Drizzle's breakpoint line as in the up file.\n" +
          "-- `npm run db:rollback` refuses to revert it while this file has no statements.\n",
      );
    }
    console.log(
      `created ${relative(process.cwd(), migration.path)} and ${relative(process.cwd(), down)}`,
    );
  }
  const problems = journalOrderProblems(journal);
  if (problems.length > 0) throw new CliError(`journal order: ${problems[0]}`);
});

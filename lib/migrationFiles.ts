/**
 * The migrations folder as Drizzle reads it (journal order, `when`, sha256 of each file), plus
 * our hand-written down files in `migrations/down/<tag>.sql`.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Drizzle's separator between the statements of one migration file. */
export const BREAKPOINT = "--> statement-breakpoint";

export interface JournalMigration {
  idx: number;
  tag: string;
  /** Journal `when`: Drizzle records it as `created_at` and compares by it. */
  when: number;
  /** sha256 of the file contents, hex: what Drizzle stores as `hash`. */
  hash: string;
  path: string;
}

interface Journal {
  entries: { idx: number; tag: string; when: number }[];
}

/** The journal entries, in journal order, with the hash Drizzle computes for each file. */
export function readJournal(folder: string): JournalMigration[] {
  const journalPath = join(folder, "meta", "_journal.json");
  if (!existsSync(journalPath)) throw new Error(`no journal at ${journalPath}`);
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as Journal;
  return journal.entries.map((entry, idx) => {
    const path = join(folder, `${entry.tag}.sql`);
    if (!existsSync(path)) throw new Error(`the journal lists ${entry.tag} but ${path} is missing`);
    // Same bytes, same digest as drizzle-orm/migrator: sha256 over the file read as a string.
    const hash = createHash("sha256").update(readFileSync(path).toString()).digest("hex");
    return { idx, tag: entry.tag, when: entry.when, hash, path };
  });
}

/** Problems with the journal order: Drizzle silently skips a migration older than the newest applied. */
export function journalOrderProblems(entries: readonly { tag: string; when: number }[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1];
    const current = entries[i];
    if (!previous || !current) continue;
    if (!(current.when > previous.when)) {
      problems.push(
        `${current.tag}: journal "when" ${current.when} is not later than ${previous.tag}'s ${previous.when}; ` +
          "Drizzle would skip it on any database that has the earlier one",
      );
    }
  }
  return problems;
}

/** Where the down file of a migration lives. */
export const downPath = (folder: string, tag: string) => join(folder, "down", `${tag}.sql`);

/** The statements of a down file; an absent file is undefined, an empty one []. */
export function readDownStatements(folder: string, tag: string): string[] | undefined {
  const path = downPath(folder, tag);
  if (!existsSync(path)) return undefined;
  return splitStatements(readFileSync(path, "utf8"));
}

/** Splits on Drizzle's breakpoints, dropping chunks that hold only comments and blank lines. */
export function splitStatements(text: string): string[] {
  return text
    .split(BREAKPOINT)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk.split("\n").some((line) => !/^\s*(--.*)?$/.test(line)));
}

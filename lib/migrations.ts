/**
 * Migration state, for the writer's start-up check and `db:migrate`: what Drizzle's migrator
 * would apply (pending), and what it would silently never apply (skipped: not recorded, yet
 * older than the newest recorded migration).
 */
import { fileURLToPath } from "node:url";
import type { Client } from "@libsql/client";
import { readJournal } from "./migrationFiles.js";
import { readLedger, reportOf } from "./migrationLedger.js";

export { MIGRATIONS_TABLE } from "./migrationLedger.js";
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));

export interface MigrationState {
  applied: number;
  pending: { tag: string; when: number }[];
  skipped: { tag: string; when: number }[];
}

/** Which migrations of the folder the database has not applied. */
export async function migrationState(
  client: Client,
  folder = MIGRATIONS_FOLDER,
): Promise<MigrationState> {
  const report = reportOf(readJournal(folder), await readLedger(client));
  const pick = (test: (status: string) => boolean) =>
    report.migrations.filter((m) => test(m.status)).map(({ tag, when }) => ({ tag, when }));
  return {
    applied: pick((s) => s.startsWith("applied")).length,
    pending: pick((s) => s === "pending"),
    skipped: pick((s) => s.startsWith("skipped")),
  };
}

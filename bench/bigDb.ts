/**
 * Bench: a migrated database already holding millions of votes, generated with one recursive-CTE
 * insert (seconds, not minutes) and cached under bench/.cache between runs. Its totals and
 * writer_state agree with its rows, so a writer seeds from it as from a real one.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { drizzleOf } from "../lib/db.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { REPO_ROOT } from "./processes.js";

const CACHE = join(REPO_ROOT, "bench", ".cache");

/** The cached file with `rows` votes (ids 1..rows), created when missing. */
export async function bigDatabase(rows: number, log: (line: string) => void): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `votes-${rows}.db`);
  if (existsSync(file)) return file;
  log(`generating a database with ${rows.toLocaleString("en")} votes (cached in ${file})`);
  const partial = join(CACHE, `votes-${rows}.partial.db`);
  rmSync(partial, { force: true });
  const client = createClient({ url: `file:${partial}`, concurrency: 1 });
  try {
    await migrate(drizzleOf(client), { migrationsFolder: MIGRATIONS_FOLDER });
    await client.execute("PRAGMA journal_mode = DELETE");
    await client.execute("PRAGMA synchronous = OFF");
    const started = performance.now();
    const created = Date.UTC(2026, 0, 1);
    const chunk = 1_000_000;
    for (let from = 1; from <= rows; from += chunk) {
      const to = Math.min(rows, from + chunk - 1);
      await client.execute(`
        INSERT INTO votes (id, option, created_at)
        WITH RECURSIVE n(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM n WHERE x < ${to})
        SELECT x, 'option' || (x % 4 + 1), ${created} + x FROM n`);
      log(`  ${to.toLocaleString("en")} / ${rows.toLocaleString("en")} rows`);
    }
    await client.execute(
      "INSERT INTO totals (option, count) SELECT option, count(*) FROM votes GROUP BY option",
    );
    await client.execute(`UPDATE writer_state SET id_ceiling = ${rows} WHERE id = 1`);
    log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    client.close();
  }
  renameSync(partial, file);
  return file;
}

/** A private copy of the cached file, for one run to write into. */
export function copyOf(file: string, dir: string): string {
  const target = join(dir, "big.db");
  copyFileSync(file, target);
  return target;
}

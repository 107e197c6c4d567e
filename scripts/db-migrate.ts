/**
 * `npm run db:migrate`: applies every pending Drizzle migration to DATABASE_URL (idempotent).
 */
import { migrate } from "drizzle-orm/libsql/migrator";
import { loadConfigOrExit } from "../lib/config.js";
import { drizzleOf, openClient } from "../lib/db.js";
import { MIGRATIONS_FOLDER, migrationState } from "../lib/migrations.js";

const config = loadConfigOrExit();
const client = openClient(config.database, 1);
try {
  const before = await migrationState(client);
  if (before.skipped.length > 0) {
    console.error(
      `these migrations are older than the newest applied one, so Drizzle would skip them: ${before.skipped.map((m) => m.tag).join(", ")}; give them a later journal \`when\` (see npm run db:check)`,
    );
    process.exitCode = 1;
  } else if (before.pending.length === 0) {
    console.log(`database is up to date (${before.applied} migration(s) applied)`);
  } else {
    await migrate(drizzleOf(client), { migrationsFolder: MIGRATIONS_FOLDER });
    for (const m of before.pending) console.log(`applied ${m.tag}`);
  }
} catch (error) {
  console.error(`migration failed on ${config.database.url}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  client.close();
}

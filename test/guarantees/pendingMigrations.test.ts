/**
 * The writer refuses to start while migrations are pending: against an empty database file, or
 * one that lacks the latest migration, it exits non-zero with one clear line, before it takes
 * the lease or touches Redis.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "drizzle-orm/libsql/migrator";
import { afterAll, beforeAll, expect, test } from "vitest";
import { drizzleOf, openClient } from "../../lib/db.js";
import { keysFor } from "../../lib/keys.js";
import { MIGRATIONS_FOLDER } from "../../lib/migrations.js";
import { eventually, testConfig } from "../support/fixtures.js";
import { killChildren, spawnWriter } from "../support/processes.js";
import { RedisServer } from "../support/redisServer.js";

let server: RedisServer;

beforeAll(async () => {
  server = await new RedisServer().start();
});

afterAll(async () => {
  await killChildren();
  await server?.destroy();
});

const tempDatabase = () => `file:${join(mkdtempSync(join(tmpdir(), "votes-db-")), "votes.db")}`;

/** A database with only the first migration applied. */
async function partlyMigrated(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), "votes-migrations-"));
  mkdirSync(join(folder, "meta"));
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8"));
  const [first] = journal.entries as { tag: string }[];
  if (!first) throw new Error("no migration in the journal");
  journal.entries = [first];
  writeFileSync(join(folder, "meta/_journal.json"), JSON.stringify(journal));
  copyFileSync(join(MIGRATIONS_FOLDER, `${first.tag}.sql`), join(folder, `${first.tag}.sql`));
  const url = tempDatabase();
  const client = openClient({ url, authToken: undefined }, 1);
  await migrate(drizzleOf(client), { migrationsFolder: folder });
  client.close();
  return url;
}

const databases = {
  "an empty database": async () => tempDatabase(),
  "a database without the latest migration": partlyMigrated,
};

test.each(Object.keys(databases) as (keyof typeof databases)[])(
  "the writer refuses to start on %s: exit 1, one line",
  async (kind) => {
    const config = testConfig({ REDIS_URL: server.url, DATABASE_URL: await databases[kind]() });
    const writer = await spawnWriter(config);
    await eventually(() => !writer.alive(), 15_000, "the writer to exit");
    expect(writer.exit?.code).toBe(1);

    expect(writer.lines, writer.output()).toHaveLength(1);
    const [line] = writer.logs();
    expect(line?.level).toBe(60); // fatal
    expect(String(line?.msg)).toMatch(/pending migration\(s\): run `npm run db:migrate` first/);
    const redis = server.client();
    expect(await redis.exists(keysFor(config.redis.prefix).lease)).toBe(0);
    redis.disconnect();
  },
);

/**
 * Guarantee 6, a bad message never stops the queue: malformed entries put straight into the
 * stream between good votes land in the dead-letter stream with their reason, are acknowledged,
 * and every good vote around them is written.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type Keys, keysFor } from "../../lib/keys.js";
import { eventually, migratedDatabase, startWriter, testConfig } from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import {
  type AcceptedVote,
  Api,
  compareWithAccepted,
  countsByOption,
  OPTIONS,
  openSqlite,
  pendingIds,
  seeded,
  totalsTable,
  votesById,
} from "./helpers.js";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
});

afterAll(async () => {
  redis?.disconnect();
  await server?.destroy();
});

const many = async (api: Api, count: number): Promise<AcceptedVote[]> => {
  const votes: AcceptedVote[] = [];
  for (let i = 0; i < count; i++) votes.push(await api.accepted(OPTIONS[i % 3] as string));
  return votes;
};

/**
 * Appends malformed entries after the last vote, as a buggy or foreign producer would; entries
 * shaped `<id>-0` take their id from the counter so the API never collides with them.
 */
async function addMalformed(keys: Keys): Promise<Map<string, RegExp>> {
  const seq = Number(await redis.hget(keys.meta, "seq"));
  const now = String(Date.now());
  const expected = new Map<string, RegExp>([
    [`${seq}-1`, /not <vote id>-0/],
    [`${seq + 1}-0`, /no option field/],
    [`${seq + 2}-0`, /invalid option/],
    [`${seq + 3}-0`, /no created_at/],
  ]);
  const results = await redis
    .multi()
    .xadd(keys.stream, `${seq}-1`, "option", "option1", "created_at", now)
    .xadd(keys.stream, `${seq + 1}-0`, "created_at", now)
    .xadd(keys.stream, `${seq + 2}-0`, "option", "x".repeat(65), "created_at", now)
    .xadd(keys.stream, `${seq + 3}-0`, "option", "option1", "created_at", "yesterday")
    .hset(keys.meta, "seq", String(seq + 3))
    .exec();
  for (const [error] of results ?? []) expect(error).toBeNull();
  return expected;
}

test("malformed entries are dead-lettered with their reason and the votes after them are written", async () => {
  const config = testConfig({ REDIS_URL: server.url, DATABASE_URL: await migratedDatabase() });
  const keys = keysFor(config.redis.prefix);
  const api = new Api(config);
  const db = openSqlite(config.database.url);

  // Seed, then let votes and bad entries queue up so that they share one batch.
  const seeder = await startWriter(config);
  await seeded(redis, config.redis.prefix);
  await seeder.stop();
  const accepted = await many(api, 10);
  const expected = await addMalformed(keys);
  accepted.push(...(await many(api, 10)));

  const writer = await startWriter(config);
  // And once more while the writer runs.
  await eventually(async () => (await votesById(db)).size === 20, 10_000, "the first batch");
  for (const [id, reason] of await addMalformed(keys)) expected.set(id, reason);
  accepted.push(...(await many(api, 10)));

  await eventually(
    async () =>
      (await pendingIds(redis, config.redis.prefix)).length === 0 &&
      (await redis.xlen(keys.stream)) === 0 &&
      (await redis.xlen(keys.deadLetter)) === expected.size,
    10_000,
    "the queue to drain past the bad entries",
  );
  await writer.stop();

  const dead = await redis.xrange(keys.deadLetter, "-", "+");
  const letters = new Map(
    dead.map(([, fields]) => {
      const map = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] ?? "", fields[i + 1] ?? "");
      return [map.get("entry") ?? "", map] as const;
    }),
  );
  expect([...letters.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [entry, reason] of expected) {
    expect(letters.get(entry)?.get("reason")).toMatch(reason);
    expect(() => JSON.parse(letters.get(entry)?.get("fields") ?? "")).not.toThrow();
  }

  expect(compareWithAccepted(accepted, await votesById(db))).toEqual([]);
  const counts = await countsByOption(db);
  expect(await api.totals()).toEqual(counts);
  expect(await totalsTable(db)).toEqual(counts);
  await api.close();
  db.close();
});

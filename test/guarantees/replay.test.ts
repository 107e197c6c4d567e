/**
 * Guarantee 1, the replay half, made deterministic: a writer commits a batch to SQLite and dies
 * before XACK; the next writer is delivered the same entries again and must not count them twice.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { openWriterClient } from "../../lib/db.js";
import { keysFor } from "../../lib/keys.js";
import { createLogger } from "../../lib/logger.js";
import { connectRedis } from "../../lib/redis.js";
import { parseEntries, type RawEntry } from "../../writer/entries.js";
import { Lease } from "../../writer/lease.js";
import { applyVotes, fence, readState } from "../../writer/sqlite.js";
import { eventually, migratedDatabase, startWriter, testConfig } from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import {
  type AcceptedVote,
  Api,
  compareWithAccepted,
  countsByOption,
  countVotes,
  OPTIONS,
  openSqlite,
  pendingIds,
  seeded,
  totalsTable,
  votesById,
} from "./helpers.js";

let server: RedisServer;

beforeAll(async () => {
  server = await new RedisServer().start();
});

afterAll(async () => {
  await server?.destroy();
});

const many = (api: Api, count: number): Promise<AcceptedVote[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => api.accepted(OPTIONS[i % 3] as string)));

test("entries committed to SQLite but never acknowledged are delivered again and not counted twice", async () => {
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    WRITER_BATCH_SIZE: "50",
  });
  const keys = keysFor(config.redis.prefix);
  const api = new Api(config);
  const db = openSqlite(config.database.url);

  // A first writer seeds Redis and records a first lot, then stops.
  const first = await startWriter(config);
  const check = server.client();
  await seeded(check, config.redis.prefix);
  const recorded = await many(api, 60);
  await eventually(async () => (await countVotes(db)) === 60, 10_000, "the first lot");
  await first.stop();

  // Votes queued while no writer runs.
  const queued = await many(api, 120);

  // A writer that takes the lease, reads the queue, commits it to SQLite and dies before XACK.
  const redis = connectRedis(config.redis, "writer");
  const writerDb = await openWriterClient(config.database);
  const lease = new Lease(redis.client, keys, config.writer.leaseMs, createLogger(config.log, "t"));
  expect(await lease.tryAcquire((await readState(writerDb)).fenceToken)).toBe(true);
  await fence(writerDb, lease.token);
  const reply = (await redis.client.xreadgroup(
    "GROUP",
    keys.group,
    "writer",
    "COUNT",
    1000,
    "STREAMS",
    keys.stream,
    ">",
  )) as [string, RawEntry[]][];
  const batch = parseEntries(reply[0]?.[1] ?? []);
  expect(batch.votes).toHaveLength(120);
  await applyVotes(writerDb, lease.token, batch.votes);
  // The crash: no commit script, no XACK; the lease lapses (released here instead of waiting).
  await lease.release();
  writerDb.close();
  await redis.close();
  expect(await countVotes(db)).toBe(180);
  expect(await pendingIds(check, config.redis.prefix)).toHaveLength(120);

  // The next writer is delivered the same 120 entries (pending first) and must skip them.
  const next = await startWriter(config);
  await eventually(
    async () =>
      (await pendingIds(check, config.redis.prefix)).length === 0 &&
      (await check.xlen(keys.stream)) === 0,
    10_000,
    "the replayed entries to be acknowledged",
  );
  await next.stop();
  check.disconnect();

  expect(compareWithAccepted([...recorded, ...queued], await votesById(db))).toEqual([]);
  const counts = await countsByOption(db);
  expect(counts).toEqual({ option1: 60, option2: 60, option3: 60 });
  expect(await totalsTable(db)).toEqual(counts);
  expect(await api.totals()).toEqual(counts);
  await api.close();
  db.close();
});

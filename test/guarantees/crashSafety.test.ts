/**
 * Guarantees 1 and 2 under crashes: a writer process SIGKILLed at random moments, 20 times,
 * while votes keep arriving; afterwards every 202 is exactly one row with its option and
 * created_at, and GET /votes, the totals table and count(*) per option agree.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { keysFor } from "../../lib/keys.js";
import { eventually, migratedDatabase, testConfig } from "../support/fixtures.js";
import { type Child, killChildren, leaderId, spawnWriter } from "../support/processes.js";
import { RedisServer } from "../support/redisServer.js";
import {
  Api,
  compareWithAccepted,
  countsByOption,
  openSqlite,
  pendingIds,
  randomMs,
  sleep,
  totalsTable,
  VoteLoad,
  votesById,
} from "./helpers.js";

const KILLS = 20;

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
});

afterAll(async () => {
  await killChildren();
  redis?.disconnect();
  await server?.destroy();
});

test(`a writer SIGKILLed ${KILLS} times under load loses nothing and counts nothing twice`, async () => {
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    // Small batches: many commits, so kills land between a SQLite commit and its XACK.
    WRITER_BATCH_SIZE: "50",
    WRITER_LEASE_MS: "500",
  });
  const keys = keysFor(config.redis.prefix);
  const db = openSqlite(config.database.url);
  const api = new Api(config);

  let writer: Child = await spawnWriter(config, {}, "writer-0");
  await leaderId(writer);
  const load = new VoteLoad(api, 2, 2);
  let replayed = 0;
  let midBatch = 0;
  for (let kill = 1; kill <= KILLS; kill++) {
    // The next writer boots as a standby while this one works, and takes over once the lease
    // of the killed one runs out.
    const next = await spawnWriter(config, {}, `writer-${kill}`);
    await sleep(randomMs(50, 400));
    await writer.kill();
    // Entries delivered to the dead writer and never acknowledged; some it had committed to
    // SQLite already: the next writer replays them.
    const rows = await votesById(db);
    const pending = await pendingIds(redis, config.redis.prefix);
    if (pending.length > 0) midBatch++;
    if (pending.some((id) => rows.has(Number(id.split("-")[0])))) replayed++;
    // A backlog for the next writer, so that it is busy with full batches when it is killed.
    await load.burst(300);
    writer = next;
    await leaderId(writer);
  }
  const accepted = await load.stop();

  // The last writer drains what is left.
  await eventually(
    async () =>
      (await pendingIds(redis, config.redis.prefix)).length === 0 &&
      (await redis.xlen(keys.stream)) === 0,
    30_000,
    "the queue to drain",
  );
  console.info(
    `crash safety: ${accepted.length} votes accepted, ${KILLS} SIGKILLs, ` +
      `${midBatch} kills with a batch in hand, ${replayed} of them after its SQLite commit, refused: ${JSON.stringify([...load.refused])}`,
  );

  expect(load.refused.size, "no vote was refused while the writer was restarting").toBe(0);
  expect(compareWithAccepted(accepted, await votesById(db))).toEqual([]);
  const counts = await countsByOption(db);
  expect(await api.totals()).toEqual(counts);
  expect(await totalsTable(db)).toEqual(counts);
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(accepted.length);

  expect((await writer.stop("SIGTERM")).code).toBe(0);
  await api.close();
  db.close();
}, 180_000);

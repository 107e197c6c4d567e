import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeSubmitVote } from "../functions/submitVote.js";
import {
  eventually,
  migratedDatabase,
  postVote,
  startWriter,
  testConfig,
  testDeps,
} from "../test/support/fixtures.js";
import { RedisServer } from "../test/support/redisServer.js";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
});
afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});

it("an entry left pending by a writer that lost its lease is written even under steady load", async () => {
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    WRITER_BATCH_SIZE: "5",
  });
  const deps = testDeps(config);
  const submit = makeSubmitVote(deps);
  const writer = await startWriter(config);
  await eventually(async () => (await redis.hget(deps.keys.meta, "run")) !== null);

  let loading = true;
  const load = (async () => {
    while (loading) {
      await Promise.all(Array.from({ length: 100 }, () => submit(postVote("steady"))));
    }
  })();
  try {
    await eventually(async () => (await redis.xlen(deps.keys.stream)) > 0, 5000, "load");
    // A stale writer (same consumer name) takes one entry mid-load and dies before applying it.
    let stuck = 0;
    await eventually(
      async () => {
        const taken = (await redis.xreadgroup(
          "GROUP",
          deps.keys.group,
          "writer",
          "COUNT",
          1,
          "STREAMS",
          deps.keys.stream,
          ">",
        )) as [string, [string, string[]][]][] | null;
        stuck = Number(taken?.[0]?.[1][0]?.[0].split("-")[0] ?? 0);
        return stuck > 0;
      },
      5000,
      "an entry to take",
    );
    expect(stuck).toBeGreaterThan(0);
    await eventually(
      async () =>
        (await writer.db.execute({ sql: "SELECT 1 FROM votes WHERE id = ?", args: [stuck] })).rows
          .length === 1,
      15_000,
      "the stuck entry to be written while the load goes on",
    );
  } finally {
    loading = false;
    await load;
  }
  await eventually(async () => (await redis.xlen(deps.keys.stream)) === 0, 15_000, "the drain");
  await writer.stop();
  await deps.close();
});

/**
 * Backpressure (contract guarantee 5): past MAX_QUEUE_LENGTH the API answers 503 with
 * Retry-After instead of growing Redis, and the writer's trim (commit.lua, XTRIM MINID) never
 * removes an entry that is still pending (delivered to a writer, not acknowledged).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSubmitVote } from "../../functions/submitVote.js";
import type { Config } from "../../lib/config.js";
import type { Deps } from "../../lib/deps.js";
import { keysFor } from "../../lib/keys.js";
import { scripts } from "../../lib/scripts.js";
import {
  eventually,
  migratedDatabase,
  postVote,
  startWriter,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import { sqliteVotes } from "./helpers.js";

let redis: RedisServer;

beforeAll(async () => {
  redis = await new RedisServer().start();
});
afterAll(async () => {
  await redis.destroy();
});

describe("a full queue", () => {
  let config: Config;
  let deps: Deps;
  afterAll(() => deps.close());

  it("answers 503 with Retry-After past MAX_QUEUE_LENGTH, and accepts again once drained", async () => {
    config = testConfig({
      REDIS_URL: redis.url,
      DATABASE_URL: await migratedDatabase(),
      MAX_QUEUE_LENGTH: "5",
    });
    deps = testDeps(config);
    const submit = makeSubmitVote(deps);
    let writer = await startWriter(config);
    await eventually(
      async () => (await deps.redis().client.hexists(deps.keys.meta, "run")) === 1,
      20_000,
    );
    await writer.stop();

    const accepted: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await submit(postVote("a"));
      expect(answer.status).toBe(202);
      accepted.push((await answer.json()).id);
    }
    for (let i = 0; i < 3; i++) {
      const full = await submit(postVote("a"));
      expect(full.status).toBe(503);
      expect(full.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      expect(full.headers.get("Content-Type")).toBe("application/problem+json");
      expect((await full.json()).type).toBe("urn:votes:problem:queue-full");
    }
    expect(await deps.redis().client.xlen(deps.keys.stream)).toBe(5);

    writer = await startWriter(config);
    await eventually(async () => (await sqliteVotes(config.database.url)).length === 5, 20_000);
    expect((await sqliteVotes(config.database.url)).map((r) => r.id)).toEqual(accepted);
    await eventually(async () => (await submit(postVote("a"))).status === 202);
    await writer.stop();
  });
});

describe("commit.lua's trim", () => {
  const keys = keysFor("trim-test");
  const lease = "writer-x:1";

  /** Queues ids 1..n, delivers the first `delivered` of them to the writer's consumer. */
  async function prepare(n: number, delivered: number) {
    const client = redis.client();
    await client.flushall();
    await client.set(keys.lease, lease);
    await client.xgroup("CREATE", keys.stream, keys.group, "0", "MKSTREAM");
    for (let id = 1; id <= n; id++) {
      await client.xadd(keys.stream, `${id}-0`, "option", "a", "created_at", "1");
    }
    await client.xreadgroup(
      "GROUP",
      keys.group,
      "writer",
      "COUNT",
      delivered,
      "STREAMS",
      keys.stream,
      ">",
    );
    return client;
  }

  const commit = (client: ReturnType<RedisServer["client"]>, ids: number[], bound: string) =>
    scripts.commit.run<[number, number, number]>(
      client,
      [keys.stream, keys.totals, keys.deadLetter, keys.lease, keys.meta],
      [keys.group, bound, ids.length, ...ids.map((id) => `${id}-0`), 0, 0, lease],
    );

  const remaining = async (client: ReturnType<RedisServer["client"]>) =>
    (await client.xrange(keys.stream, "-", "+")).map(([id]) => id);

  it("keeps every entry that is pending, even below the trim bound", async () => {
    const client = await prepare(10, 10);
    const all = Array.from({ length: 10 }, (_, i) => `${i + 1}-0`);
    // A batch acknowledging 6..10 while 1..5 are still pending: MINID stops at the oldest
    // pending entry, so nothing is trimmed (acknowledged entries above it wait, harmlessly).
    const [acked] = await commit(client, [6, 7, 8, 9, 10], "10-1");
    expect(acked).toBe(5);
    expect(await remaining(client)).toEqual(all);
    // One pending entry among acknowledged ones holds the trim at its id.
    await commit(client, [1, 2, 4, 5], "10-1");
    expect(await remaining(client)).toEqual(all.slice(2));
    expect((await client.xpending(keys.stream, keys.group))[0]).toBe(1);
    // The bound of a batch is just above its own last entry: 4..10 wait for a later batch.
    await commit(client, [3], "3-1");
    expect(await remaining(client)).toEqual(all.slice(3));
    await commit(client, [], "10-1");
    expect(await remaining(client)).toEqual([]);
    client.disconnect();
  });

  it("trims what is acknowledged and keeps what was not delivered yet", async () => {
    const client = await prepare(12, 8);
    await commit(client, [1, 2, 3, 4, 5, 6, 7, 8], "8-1");
    expect(await remaining(client)).toEqual(["9-0", "10-0", "11-0", "12-0"]);
    client.disconnect();
  });

  it("trims nothing and acknowledges nothing for a writer that lost its lease", async () => {
    const client = await prepare(4, 4);
    const [acked] = await scripts.commit.run<[number, number, number]>(
      client,
      [keys.stream, keys.totals, keys.deadLetter, keys.lease, keys.meta],
      [keys.group, "4-1", 4, "1-0", "2-0", "3-0", "4-0", 0, 0, "writer-y:0"],
    );
    expect(acked).toBe(-1);
    expect(await remaining(client)).toEqual(["1-0", "2-0", "3-0", "4-0"]);
    client.disconnect();
  });
});

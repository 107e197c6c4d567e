import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RedisServer } from "../test/support/redisServer.js";
import { keysFor } from "./keys.js";
import { scripts } from "./scripts.js";

let server: RedisServer;
let redis: Redis;
let run: string;
let n = 0;
let keys = keysFor("s0");

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
  run = /run_id:(\w+)/.exec(await redis.info("server"))?.[1] ?? "";
});
afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});
beforeEach(() => {
  keys = keysFor(`s${++n}`);
});

const LEASE = "writer-a:7";
const submit = (option: string, key = "", maxQueue = 100, runId = run) =>
  scripts.submit.run<[number, number, number]>(
    redis,
    [keys.meta, keys.stream, keys.idempotency(key)],
    [option, maxQueue, 60_000, key, runId],
  );
const seed = (maxId: number, ceiling: number, limit: number, totals: (string | number)[] = []) =>
  scripts.seed.run<number>(
    redis,
    [keys.meta, keys.stream, keys.totals, keys.lease],
    [keys.group, maxId, ceiling, limit, run, LEASE, ...totals],
  );
const holdLease = () => redis.set(keys.lease, LEASE, "PX", 60_000);

describe("submit.lua", () => {
  it("refuses until a writer seeded this Redis run", async () => {
    expect((await submit("a"))[0]).toBe(-1);
    await holdLease();
    await seed(0, 0, 1000);
    expect((await submit("a", "", 100, "another-run"))[0]).toBe(-1);
    const [code, id, ms] = await submit("a");
    expect(code).toBe(1);
    expect(id).toBe(1);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5000);
  });

  it("appends the vote as entry <id>-0 with its option and created_at", async () => {
    await holdLease();
    await seed(41, 41, 1000);
    const [, id, ms] = await submit("option1");
    expect(id).toBe(42);
    expect(await redis.xrange(keys.stream, "-", "+")).toEqual([
      ["42-0", ["option", "option1", "created_at", String(ms)]],
    ]);
  });

  it("refuses past the queue bound and past the id limit", async () => {
    await holdLease();
    await seed(0, 0, 3);
    expect((await submit("a", "", 2))[0]).toBe(1);
    expect((await submit("a", "", 2))[0]).toBe(1);
    expect((await submit("a", "", 2))[0]).toBe(-2);
    expect((await submit("a", "", 10))[0]).toBe(1);
    expect((await submit("a", "", 10))[0]).toBe(-4);
    expect(await redis.xlen(keys.stream)).toBe(3);
  });

  it("replays an idempotent request and rejects the key with another option", async () => {
    await holdLease();
    await seed(0, 0, 1000);
    const first = await submit("a", "key-1");
    expect(await submit("a", "key-1")).toEqual([2, first[1], first[2]]);
    expect((await submit("b", "key-1"))[0]).toBe(-3);
    expect(await redis.xlen(keys.stream)).toBe(1);
    expect(await redis.pttl(keys.idempotency("key-1"))).toBeGreaterThan(50_000);
  });
});

describe("seed.lua", () => {
  it("only runs for the lease holder", async () => {
    expect(await seed(0, 0, 10)).toBe(-1);
    expect(await redis.exists(keys.meta)).toBe(0);
  });

  it("keeps a trusted counter and jumps an untrusted one to the ceiling", async () => {
    await holdLease();
    expect(await seed(5, 100, 200)).toBe(100);
    await redis.hset(keys.meta, "seq", "150");
    expect(await seed(5, 200, 300)).toBe(150);
    await redis.hset(keys.meta, "run", "old-run");
    expect(await seed(5, 300, 400)).toBe(300);
    await redis.del(keys.meta);
    expect(await seed(350, 300, 500)).toBe(350);
    expect(await redis.hget(keys.meta, "limit")).toBe("500");
  });

  it("replaces the totals and creates the consumer group once", async () => {
    await holdLease();
    await redis.hset(keys.totals, "stale", "9");
    await seed(0, 0, 10, ["a", 3, "b", 4]);
    await seed(0, 0, 10, ["a", 3, "b", 4]);
    expect(await redis.hgetall(keys.totals)).toEqual({ a: "3", b: "4" });
    const groups = (await redis.xinfo("GROUPS", keys.stream)) as unknown[];
    expect(groups).toHaveLength(1);
  });
});

describe("commit.lua", () => {
  const commit = (acks: string[], bound: string, totals: (string | number)[], lease = LEASE) =>
    scripts.commit.run<[number, number, number]>(
      redis,
      [keys.stream, keys.totals, keys.deadLetter, keys.lease, keys.meta],
      [
        keys.group,
        bound,
        acks.length,
        ...acks,
        totals.length / 2,
        ...totals,
        1,
        "9-0",
        "bad",
        "[]",
        lease,
      ],
    );
  const read = () =>
    redis.xreadgroup("GROUP", keys.group, "writer", "COUNT", 2, "STREAMS", keys.stream, ">");

  it("publishes, dead-letters, acks and trims only what is acknowledged", async () => {
    await holdLease();
    await seed(0, 0, 100);
    for (let i = 0; i < 4; i++) await submit("a");
    await read(); // delivers 1-0 and 2-0
    expect(await commit(["1-0"], "2-1", ["a", 1])).toEqual([1, 4, 100]);
    // 2-0 is delivered but not acknowledged: the trim stops below it.
    expect((await redis.xrange(keys.stream, "-", "+")).map(([id]) => id)).toEqual([
      "2-0",
      "3-0",
      "4-0",
    ]);
    expect(await redis.hget(keys.totals, "a")).toBe("1");
    expect((await redis.xrange(keys.deadLetter, "-", "+"))[0]?.[1]).toEqual([
      "entry",
      "9-0",
      "reason",
      "bad",
      "fields",
      "[]",
    ]);
    await commit(["2-0"], "2-1", ["a", 2]);
    expect((await redis.xrange(keys.stream, "-", "+")).map(([id]) => id)).toEqual(["3-0", "4-0"]);
  });

  it("does nothing for a writer that lost the lease", async () => {
    await holdLease();
    await seed(0, 0, 100);
    await submit("a");
    await read();
    expect((await commit(["1-0"], "1-1", ["a", 1], "writer-b:8"))[0]).toBe(-1);
    expect(await redis.xlen(keys.stream)).toBe(1);
    expect(await redis.hget(keys.totals, "a")).toBeNull();
  });
});

describe("lease scripts", () => {
  it("grants one holder, with tokens above SQLite's floor, renewed and released by the holder only", async () => {
    const acquire = (id: string, floor: number) =>
      scripts.acquireLease.run<number>(redis, [keys.lease, keys.fence], [id, 60_000, floor]);
    expect(await acquire("a", 10)).toBe(11);
    expect(await acquire("b", 0)).toBe(0);
    expect(await scripts.renewLease.run(redis, [keys.lease], ["b:11", 60_000])).toBe(0);
    expect(await scripts.renewLease.run(redis, [keys.lease], ["a:11", 60_000])).toBe(1);
    expect(await scripts.releaseLease.run(redis, [keys.lease], ["b:11"])).toBe(0);
    expect(await scripts.releaseLease.run(redis, [keys.lease], ["a:11"])).toBe(1);
    expect(await acquire("b", 0)).toBe(12);
  });
});

describe("raiseLimit.lua", () => {
  it("raises the limit only, only on the seeded run, only for the lease holder", async () => {
    await holdLease();
    await seed(0, 0, 100);
    const raise = (limit: number, runId = run, lease = LEASE) =>
      scripts.raiseLimit.run<number>(redis, [keys.meta, keys.lease], [limit, runId, lease]);
    expect(await raise(500)).toBe(1);
    expect(await raise(300)).toBe(1);
    expect(await redis.hget(keys.meta, "limit")).toBe("500");
    expect(await raise(900, "other-run")).toBe(0);
    expect(await raise(900, run, "x:1")).toBe(-1);
  });
});

describe("LuaScript", () => {
  it("falls back to EVAL when Redis forgot the script", async () => {
    await redis.script("FLUSH");
    expect(await scripts.renewLease.run(redis, [keys.lease], ["nobody:1", 1000])).toBe(0);
    expect(await redis.script("EXISTS", scripts.renewLease.sha)).toEqual([1]);
  });
});

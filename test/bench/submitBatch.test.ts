/**
 * The batched submit (what POST /votes runs for the votes of one event-loop turn) gives every
 * vote the outcome that a submit.lua call of its own, in the same order, gives: the batching is
 * a speed-up with no change of behaviour. Both scripts run on twin prefixes of one Redis.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Keys, keysFor } from "../../lib/keys.js";
import { scripts } from "../../lib/scripts.js";
import { RedisServer } from "../support/redisServer.js";

let server: RedisServer;
let redis: Redis;
let run: string;
let n = 0;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
  run = /run_id:(\w+)/.exec(await redis.info("server"))?.[1] ?? "";
});
afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});

type Vote = [option: string, key: string];
type Outcome = [number, number];

interface Setup {
  seeded: boolean;
  seq: number;
  limit: number;
  maxQueue: number;
  runId?: string;
}

async function twin(setup: Setup): Promise<[Keys, Keys]> {
  n++;
  const pair: [Keys, Keys] = [keysFor(`single${n}`), keysFor(`batch${n}`)];
  for (const keys of pair) {
    if (setup.seeded) {
      await redis.hset(keys.meta, "seq", setup.seq, "limit", setup.limit, "run", run);
    }
  }
  return pair;
}

async function single(keys: Keys, setup: Setup, votes: Vote[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const [option, key] of votes) {
    const [code, id] = await scripts.submit.run<[number, number, number]>(
      redis,
      [keys.meta, keys.stream, keys.idempotency(key)],
      [option, setup.maxQueue, 60_000, key, setup.runId ?? run],
    );
    out.push([code, id]);
  }
  return out;
}

async function batched(keys: Keys, setup: Setup, votes: Vote[]): Promise<Outcome[]> {
  const records = votes.filter(([, key]) => key !== "").map(([, key]) => keys.idempotency(key));
  const flat = await scripts.submitBatch.run<number[]>(
    redis,
    [keys.meta, keys.stream, ...records],
    [setup.maxQueue, 60_000, setup.runId ?? run, ...votes.flat()],
  );
  return votes.map((_, i) => [flat[3 * i] as number, flat[3 * i + 1] as number]);
}

async function compare(setup: Setup, rounds: Vote[][]): Promise<Outcome[]> {
  const [a, b] = await twin(setup);
  const all: Outcome[] = [];
  for (const votes of rounds) {
    const expected = await single(a, setup, votes);
    const got = await batched(b, setup, votes);
    expect(got).toEqual(expected);
    all.push(...got);
  }
  // Same queue, same counter.
  const entries = async (k: Keys) =>
    (await redis.xrange(k.stream, "-", "+")).map(([id, fields]) => [id, fields[1]]);
  expect(await entries(b)).toEqual(await entries(a));
  expect(await redis.hget(b.meta, "seq")).toBe(await redis.hget(a.meta, "seq"));
  return all;
}

const votes = (count: number, keyOf: (i: number) => string = () => ""): Vote[] =>
  Array.from({ length: count }, (_, i) => [`option${i % 3}`, keyOf(i)]);

describe("submitBatch.lua", () => {
  it("queues like submit.lua: ids in order, one entry each", async () => {
    const out = await compare({ seeded: true, seq: 10, limit: 1000, maxQueue: 100 }, [
      votes(5),
      votes(1),
      votes(7),
    ]);
    expect(out.map(([code]) => code)).toEqual(Array(13).fill(1));
    expect(out.map(([, id]) => id)).toEqual(Array.from({ length: 13 }, (_, i) => 11 + i));
  });

  it("refuses like submit.lua: not seeded, another Redis run, queue full, ids used up", async () => {
    const notSeeded = await compare({ seeded: false, seq: 0, limit: 0, maxQueue: 10 }, [votes(3)]);
    expect(notSeeded.map(([c]) => c)).toEqual([-1, -1, -1]);
    const otherRun = await compare(
      { seeded: true, seq: 0, limit: 100, maxQueue: 10, runId: "another-run" },
      [votes(2)],
    );
    expect(otherRun.map(([c]) => c)).toEqual([-1, -1]);
    const full = await compare({ seeded: true, seq: 0, limit: 100, maxQueue: 4 }, [
      votes(3),
      votes(3),
    ]);
    expect(full.map(([c]) => c)).toEqual([1, 1, 1, 1, -2, -2]);
    const limit = await compare({ seeded: true, seq: 0, limit: 5, maxQueue: 100 }, [votes(7)]);
    expect(limit.map(([c]) => c)).toEqual([1, 1, 1, 1, 1, -4, -4]);
  });

  it("handles Idempotency-Keys like submit.lua, also a key repeated inside one batch", async () => {
    const setup = { seeded: true, seq: 0, limit: 100, maxQueue: 100 };
    const out = await compare(setup, [
      [
        ["a", "k1"],
        ["b", ""],
        ["a", "k1"],
        ["c", "k1"],
        ["d", "k2"],
      ],
      [
        ["d", "k2"],
        ["e", "k3"],
        ["x", "k2"],
      ],
    ]);
    expect(out.map(([c]) => c)).toEqual([1, 1, 2, -3, 1, 2, 1, -3]);
    expect(out[2]?.[1]).toBe(out[0]?.[1]);
  });
});

/**
 * Redis outages, against a private redis-server with AOF: while it is down, POST answers 503
 * fast (no hang, no growing offline queue) and reads fall back to SQLite; when it returns, the
 * API and the writer recover by themselves and nothing accepted is lost. After a restart, votes
 * are refused until the writer re-seeds, and ids jump above the SQLite ceiling: even when the
 * AOF lost its tail, no id is handed out twice.
 */
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Config } from "../../lib/config.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  startWriter,
  testConfig,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import { type Api, post, sqliteCounts, sqliteVotes, startApi } from "./helpers.js";

// Waits are bounds, not targets: generous, for a machine busy with other suites.
vi.setConfig({ testTimeout: 60_000 });

const AOF = ["--appendonly", "yes", "--appendfsync", "always", "--appenddirname", "aof"];

let redis: RedisServer | undefined;
let api: Api | undefined;
let writer: InProcessWriter | undefined;

afterEach(async () => {
  await writer?.stop();
  await api?.close();
  await redis?.destroy();
  writer = api = redis = undefined;
});

async function setUp(): Promise<{ config: Config; api: Api; redis: RedisServer }> {
  redis = await new RedisServer({ args: AOF }).start();
  const config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
  api = await startApi(config);
  writer = await startWriter(config);
  return { config, api, redis };
}

async function accept(url: string, option: string): Promise<number> {
  let id = 0;
  await eventually(
    async () => {
      const answer = await post(url, option);
      if (answer.status === 202) id = (await answer.json()).id;
      return answer.status === 202;
    },
    15_000,
    `a 202 for ${option}`,
  );
  return id;
}

const problemType = async (answer: Response) => {
  expect(answer.headers.get("Content-Type")).toBe("application/problem+json");
  return (await answer.json()).type as string;
};

describe("Redis down", () => {
  it("POST is a fast 503, reads fall back to SQLite, and everything recovers by itself", async () => {
    const { config, api, redis } = await setUp();
    const accepted = [await accept(api.url, "a"), await accept(api.url, "b")];
    for (let i = 0; i < 5; i++) accepted.push(await accept(api.url, "a"));
    await eventually(
      async () => (await sqliteVotes(config.database.url)).length === accepted.length,
      20_000,
    );

    await redis.stop("SIGKILL");
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(api.url, "a")));
    const elapsed = Date.now() - started;
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      expect(await problemType(answer)).toBe("urn:votes:problem:redis-unavailable");
    }
    // A hang bound, not a speed target ("never a hang past a few seconds"): about 1 s on an idle
    // machine (REDIS_TIMEOUT_MS); the margin is for a test machine busy with other suites.
    expect(elapsed).toBeLessThan(5_000);

    const totals = await fetch(`${api.url}/votes`);
    expect(totals.status).toBe(200);
    expect(totals.headers.get("X-Totals-Source")).toBe("sqlite");
    expect(await totals.json()).toEqual({ a: 6, b: 1 });
    const recorded = await fetch(`${api.url}/votes/${accepted[1]}`);
    expect(recorded.status).toBe(200);
    expect(await recorded.json()).toMatchObject({
      id: accepted[1],
      option: "b",
      status: "recorded",
    });
    // Not in SQLite and Redis cannot say whether it is queued: 503, not 404.
    const unknown = await fetch(`${api.url}/votes/${Math.max(...accepted) + 1}`);
    expect(unknown.status).toBe(503);
    expect(await problemType(unknown)).toBe("urn:votes:problem:redis-unavailable");

    await redis.start();
    const after = await accept(api.url, "b");
    expect(after).toBeGreaterThan(Math.max(...accepted));
    accepted.push(after);
    await eventually(
      async () => (await sqliteVotes(config.database.url)).length === accepted.length,
      20_000,
    );
    expect((await sqliteVotes(config.database.url)).map((r) => r.id)).toEqual(accepted);
    await eventually(async () => {
      const now = await fetch(`${api.url}/votes`);
      return (
        JSON.stringify(await now.json()) === JSON.stringify(await sqliteCounts(config.database.url))
      );
    });
  });
});

describe("Redis restarted with AOF", () => {
  it("queued votes survive a kill -9, votes are refused until re-seeded, then ids resume above every id used", async () => {
    const { config, api, redis } = await setUp();
    const recorded = [await accept(api.url, "a"), await accept(api.url, "a")];
    await eventually(async () => (await sqliteVotes(config.database.url)).length === 2, 20_000);
    await writer?.stop();
    writer = undefined;
    const queued = [await accept(api.url, "b"), await accept(api.url, "b")];

    await redis.stop("SIGKILL");
    await redis.start();
    // The AOF brought the queue back, but this Redis run is not seeded: refuse, never reuse.
    await eventually(async () => {
      const answer = await post(api.url, "a");
      expect(answer.status).toBe(503);
      return (await problemType(answer)) === "urn:votes:problem:not-seeded";
    });
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);

    writer = await startWriter(config);
    const next = await accept(api.url, "c");
    const used = [...recorded, ...queued];
    expect(next).toBeGreaterThan(Math.max(...used));
    await eventually(async () => (await sqliteVotes(config.database.url)).length === 5, 20_000);
    expect((await sqliteVotes(config.database.url)).map((r) => r.id)).toEqual([...used, next]);
  });

  it("an AOF that lost its last writes does not make the counter hand out an id twice", async () => {
    const { config, api, redis } = await setUp();
    const before = [await accept(api.url, "a"), await accept(api.url, "a")];
    await eventually(async () => (await sqliteVotes(config.database.url)).length === 2, 20_000);
    await writer?.stop();
    writer = undefined;
    // The AOF as it was "one second ago": the votes accepted after this point are its lost tail.
    const snapshot = join(redis.dir, "aof-snapshot");
    cpSync(join(redis.dir, "aof"), snapshot, { recursive: true });
    const lostTail = [await accept(api.url, "b"), await accept(api.url, "b")];

    await redis.stop("SIGKILL");
    rmSync(join(redis.dir, "aof"), { recursive: true });
    cpSync(snapshot, join(redis.dir, "aof"), { recursive: true });
    await redis.start();
    const client = redis.client();
    expect(Number(await client.hget(api.deps.keys.meta, "seq"))).toBe(Math.max(...before));
    client.disconnect();

    writer = await startWriter(config);
    const next = await accept(api.url, "c");
    expect(next).toBeGreaterThan(Math.max(...before, ...lostTail));
    await eventually(async () => (await sqliteVotes(config.database.url)).length === 3, 20_000);
    expect((await sqliteVotes(config.database.url)).map((r) => r.id)).toEqual([...before, next]);
  });
});

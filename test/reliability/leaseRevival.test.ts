/**
 * Redis paused or restarted under a leader: once the lease has run out locally (held() false,
 * the writer stops leading), a renewal that Redis answers late must not revive it. It used to:
 * the old leader kept renewing a lease it no longer used, and no writer could ever take it
 * (after a Redis restart with AOF, votes were refused as not seeded for good).
 */
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Config } from "../../lib/config.js";
import { keysFor } from "../../lib/keys.js";
import { connectRedis, type RedisConnection } from "../../lib/redis.js";
import { Lease } from "../../writer/lease.js";
import { eventually, testConfig } from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";

let redis: RedisServer;
let redisPid: number;
let config: Config;
const connections: RedisConnection[] = [];

beforeAll(async () => {
  redis = await new RedisServer().start();
  const probe = redis.client();
  redisPid = Number(/process_id:(\d+)/.exec(await probe.info("server"))?.[1]);
  probe.disconnect();
  config = testConfig({ REDIS_URL: redis.url, WRITER_LEASE_MS: "1000" });
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  process.kill(redisPid, "SIGCONT");
  await redis.destroy();
});

function lease(): Lease {
  const connection = connectRedis(config.redis, "writer");
  connections.push(connection);
  return new Lease(
    connection.client,
    keysFor(config.redis.prefix),
    1000,
    pino({ level: "silent" }),
  );
}

it("a lease that ran out while Redis was paused stays lost, and another writer can take it", async () => {
  const first = lease();
  expect(await first.tryAcquire(0)).toBe(true);
  // Pause Redis: the next renewal waits in its socket while the local lease runs out.
  process.kill(redisPid, "SIGSTOP");
  try {
    await eventually(() => !first.held(), 5_000, "the lease to run out locally");
  } finally {
    process.kill(redisPid, "SIGCONT");
  }
  // The renewal sent during the pause is answered now, with the key still there: it must not
  // bring the lease back.
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    expect(first.held()).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
  }
  const second = lease();
  await eventually(() => second.tryAcquire(0), 5_000, "a second writer to take the lease");
  expect(second.token).toBeGreaterThan(0);
  await second.release();
});

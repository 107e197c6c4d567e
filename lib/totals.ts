/**
 * Reading the totals: the hash the writer publishes to Redis, or, when it is missing (Redis
 * down, flushed, not yet re-seeded), SQLite's totals table, read-only.
 */

import type { Deps } from "./deps.js";
import { unavailable } from "./problem.js";
import type { RedisConnection } from "./redis.js";
import { totals as totalsTable } from "./schema.js";

export interface Totals {
  totals: Record<string, number>;
  source: "redis" | "sqlite";
}

export async function readTotals(deps: Deps): Promise<Totals> {
  const totals = await sharedRedisRead(deps);
  if (totals) return { totals, source: "redis" };
  return { totals: await totalsFromSqlite(deps), source: "sqlite" };
}

/** The read not yet sent, per Redis connection: requests of the same turn join it. */
const nextRead = new WeakMap<RedisConnection, Promise<Record<string, number> | undefined>>();

/**
 * The totals hash, read once for all the `GET /votes` a process receives in one event-loop
 * turn: the read is sent from `setImmediate`, after every request that shares it has arrived,
 * so none of them sees totals older than its own arrival. Undefined when Redis is unreachable or
 * not seeded (then SQLite answers).
 */
function sharedRedisRead(deps: Deps): Promise<Record<string, number> | undefined> {
  let redis: RedisConnection;
  try {
    redis = deps.redis();
  } catch {
    return Promise.resolve(undefined);
  }
  let read = nextRead.get(redis);
  if (!read) {
    read = new Promise((resolve) => {
      setImmediate(() => {
        nextRead.delete(redis);
        resolve(readFromRedis(deps, redis));
      });
    });
    nextRead.set(redis, read);
  }
  return read;
}

async function readFromRedis(
  deps: Deps,
  redis: RedisConnection,
): Promise<Record<string, number> | undefined> {
  try {
    const [[, hash], [, run]] = (await redis.client
      .multi()
      .hgetall(deps.keys.totals)
      .hget(deps.keys.meta, "run")
      .exec()) as [[null, Record<string, string>], [null, string | null]];
    // The hash is trustworthy once a writer has seeded this Redis.
    if (run === null) return undefined;
    const totals: Record<string, number> = {};
    for (const [option, count] of Object.entries(hash)) totals[option] = Number(count);
    return totals;
  } catch {
    // Redis is unreachable: SQLite answers.
    return undefined;
  }
}

async function totalsFromSqlite(deps: Deps): Promise<Record<string, number>> {
  try {
    const db = await deps.db();
    const rows = await db.select().from(totalsTable);
    const totals: Record<string, number> = {};
    for (const row of rows) totals[row.option] = row.count;
    return totals;
  } catch (cause) {
    throw unavailable(
      "database-unavailable",
      "Neither Redis nor the vote store answered.",
      2,
      cause,
    );
  }
}

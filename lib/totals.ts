/**
 * Reading the totals: the hash the writer publishes to Redis, or, when it is missing (Redis
 * down, flushed, not yet re-seeded), SQLite's totals table, read-only.
 */

import type { Deps } from "./deps.js";
import { unavailable } from "./problem.js";
import { totals as totalsTable } from "./schema.js";

export interface Totals {
  totals: Record<string, number>;
  source: "redis" | "sqlite";
}

export async function readTotals(deps: Deps): Promise<Totals> {
  try {
    const [[, hash], [, run]] = (await deps
      .redis()
      .client.multi()
      .hgetall(deps.keys.totals)
      .hget(deps.keys.meta, "run")
      .exec()) as [[null, Record<string, string>], [null, string | null]];
    // The hash is trustworthy once a writer has seeded this Redis.
    if (run !== null) {
      const totals: Record<string, number> = {};
      for (const [option, count] of Object.entries(hash)) totals[option] = Number(count);
      return { totals, source: "redis" };
    }
  } catch {
    // Redis is unreachable: fall through to SQLite.
  }
  return { totals: await totalsFromSqlite(deps), source: "sqlite" };
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

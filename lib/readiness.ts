/**
 * Readiness: Redis answers, the database answers, and a writer has seeded this Redis run (so
 * votes can be accepted). Each check is bounded by the Redis timeout.
 */
import { sql } from "drizzle-orm";
import type { Deps } from "./deps.js";

export type CheckResult = "ok" | string;

export interface Readiness {
  ready: boolean;
  checks: { redis: CheckResult; database: CheckResult; queue: CheckResult };
}

export async function checkReadiness(deps: Deps): Promise<Readiness> {
  const timeout = deps.config.redis.timeoutMs;
  const [redis, queue] = await bounded(timeout, async () => {
    const connection = deps.redis();
    const [run, seeded] = await Promise.all([
      connection.runId(),
      connection.client.hget(deps.keys.meta, "run"),
    ]);
    const queue =
      seeded === null
        ? "not seeded: start a writer (npm run writer)"
        : run !== "" && seeded !== run
          ? "Redis restarted: waiting for the writer to re-seed it"
          : "ok";
    return ["ok", queue] as const;
  }).catch(
    (error: Error) => [`unreachable: ${error.message}`, "unknown (Redis unreachable)"] as const,
  );
  const database = await bounded(timeout, async () => {
    await (await deps.db()).run(sql`SELECT 1`);
    return "ok";
  }).catch((error: Error) => `unreachable: ${error.message}`);
  const checks = { redis, database, queue };
  return { ready: Object.values(checks).every((c) => c === "ok"), checks };
}

function bounded<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

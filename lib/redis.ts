/**
 * Redis connections. Commands fail fast while Redis is away (bounded by `REDIS_TIMEOUT_MS`, no
 * endless offline queue), and each connection knows the `run_id` of the server it talks to, so
 * the submit script can refuse votes on a Redis that restarted and has not been re-seeded yet.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config.js";
import { unavailable } from "./problem.js";

export type RedisRole = "api" | "writer" | "writer-blocking";

/** A Redis client and the run id of its server. */
export interface RedisConnection {
  readonly client: Redis;
  /** Resolves to the connected server's run_id ("" where INFO is not allowed). */
  runId(): Promise<string>;
  close(): Promise<void>;
}

export function redisOptions(config: Config["redis"], role: RedisRole): RedisOptions {
  const timeout = config.timeoutMs;
  return {
    connectTimeout: timeout,
    // A blocking XREADGROUP waits server-side; its client-side timeout is set per call.
    commandTimeout: role === "writer-blocking" ? undefined : timeout,
    maxRetriesPerRequest: role === "api" ? 1 : 2,
    // A FaaS container thawed after its flow died silently (no FIN/RST) would time out on that
    // socket until TCP keepalive gave up (minutes): no reply within the timeout drops it instead,
    // and the next call reconnects (test/deploy/frozenConnection.test.ts).
    // The writer too: its lease renewals must not wait on a dead flow. Not the blocking read,
    // which legitimately hears nothing for WRITER_BLOCK_MS.
    ...(role === "writer-blocking" ? {} : { socketTimeout: timeout }),
    enableOfflineQueue: true,
    // A submit that Redis ran just before the connection dropped must not run again on the new
    // one (a second vote nobody holds an id for): the API answers 503 instead, and a client
    // retrying with its Idempotency-Key gets the first vote. The writer's commands are
    // idempotent (absolute totals, XACK, reads whose deliveries stay pending), so it resends.
    autoResendUnfulfilledCommands: role !== "api",
    enableAutoPipelining: role === "api",
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
    connectionName: `votes-${role}`,
    lazyConnect: false,
    // rediss:// turns TLS on; REDIS_TLS_CA_FILE adds a private CA to trust (else the system's).
    ...(config.url.startsWith("rediss://") && config.tlsCa ? { tls: { ca: config.tlsCa } } : {}),
  };
}

export function connectRedis(
  config: Config["redis"],
  role: RedisRole,
  overrides: RedisOptions = {},
): RedisConnection {
  const client = new Redis(config.url, { ...redisOptions(config, role), ...overrides });
  return track(client, config.timeoutMs);
}

/** Wraps a client (possibly a `duplicate()`) with run id tracking. */
export function track(client: Redis, timeoutMs: number): RedisConnection {
  // Unhandled 'error' events would crash the process; callers see errors on their commands.
  client.on("error", () => {});
  let current: Promise<string> | undefined;
  let settle: ((runId: string) => void) | undefined;
  // The run id once known for the current connection: answered without a timer per call.
  let known: Promise<string> | undefined;
  let generation = 0;
  const reset = () => {
    known = undefined;
    const mine = ++generation;
    current = new Promise((resolve) => {
      settle = (runId) => {
        // A late answer for a connection that has closed since must not become current.
        if (mine === generation) known = Promise.resolve(runId);
        resolve(runId);
      };
    });
    // A pending run id is never awaited without a timeout; keep it from failing loudly.
    current.catch(() => {});
  };
  reset();
  client.on("close", reset);
  client.on("ready", () => {
    const resolve = settle;
    const mine = generation;
    // "" (no run id check) only where INFO is not allowed; a passing failure is asked again,
    // or the writer could seed with "" while the API knows the real run id.
    const ask = () =>
      client
        .info("server")
        .then((info) => resolve?.(/run_id:([0-9a-f]+)/.exec(info)?.[1] ?? ""))
        .catch((error: Error) => {
          if (/NOPERM|unknown command|not allowed/i.test(error.message)) resolve?.("");
          else if (mine === generation) setTimeout(ask, 100).unref();
        });
    void ask();
  });
  return {
    client,
    runId: () => known ?? withTimeout(current ?? Promise.resolve(""), timeoutMs),
    close: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(redisDown(new Error("Redis did not answer in time"))), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The 503 a handler answers when Redis cannot be reached. */
export const redisDown = (cause: unknown) =>
  unavailable(
    "redis-unavailable",
    "The vote queue (Redis) cannot be reached; retry shortly.",
    2,
    cause,
  );

/**
 * What the functions share: configuration and lazily created clients, built once per process
 * (once per container on a FaaS host) and reused by every request.
 */
import type { Client } from "@libsql/client";
import { type Config, loadConfig } from "./config.js";
import { type Database, drizzleOf, openReader } from "./db.js";
import { type Keys, keysFor } from "./keys.js";
import { createLogger, type Logger } from "./logger.js";
import { connectRedis, type RedisConnection } from "./redis.js";

export interface Deps {
  config: Config;
  keys: Keys;
  log: Logger;
  redis(): RedisConnection;
  /** The read-only view of SQLite the functions fall back to. */
  db(): Promise<Database>;
  close(): Promise<void>;
}

/** Builds the dependencies of the functions from a parsed configuration. */
export function createDeps(config: Config, log = createLogger(config.log, "api")): Deps {
  let redis: RedisConnection | undefined;
  let client: Promise<Client> | undefined;
  let database: Promise<Database> | undefined;
  return {
    config,
    keys: keysFor(config.redis.prefix),
    log,
    redis: () => {
      redis ??= connectRedis(config.redis, "api");
      return redis;
    },
    db: () => {
      client ??= openReader(config.database);
      database ??= client.then(drizzleOf);
      // A failed open is retried on the next call instead of being cached.
      database.catch(() => {
        client = undefined;
        database = undefined;
      });
      return database;
    },
    close: async () => {
      await redis?.close();
      (await client?.catch(() => undefined))?.close();
      redis = undefined;
      client = undefined;
      database = undefined;
    },
  };
}

let shared: Deps | undefined;

/** The process-wide dependencies, from `process.env`, parsed on first use. */
export function sharedDeps(): Deps {
  shared ??= createDeps(loadConfig(process.env));
  return shared;
}

/**
 * Test support: a migrated SQLite file in a temp dir, a config pointing at a test Redis with
 * its own prefix, the functions' dependencies and an in-process writer.
 */

import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { type Config, loadConfig } from "../../lib/config.js";
import { drizzleOf, openClient, openWriterClient } from "../../lib/db.js";
import { createDeps, type Deps } from "../../lib/deps.js";
import { createLogger } from "../../lib/logger.js";
import { MIGRATIONS_FOLDER } from "../../lib/migrations.js";
import { connectRedis } from "../../lib/redis.js";
import { Writer, type WriterHooks } from "../../writer/writer.js";

/** A fresh SQLite file with every migration applied; returns its `file:` URL. */
export async function migratedDatabase(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "votes-db-"));
  const url = `file:${join(dir, "votes.db")}`;
  const client = openClient({ url, authToken: undefined }, 1);
  await migrate(drizzleOf(client), { migrationsFolder: MIGRATIONS_FOLDER });
  client.close();
  return url;
}

/** A config for tests: quiet logs, a unique prefix, short timeouts and lease. */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({
    LOG_LEVEL: "silent",
    REDIS_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    WRITER_LEASE_MS: "1000",
    WRITER_BLOCK_MS: "200",
    ...env,
  });
}

/** The env a child process (writer, API) needs to join this test's deployment. */
export function childEnv(config: Config, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    REDIS_URL: config.redis.url,
    REDIS_PREFIX: config.redis.prefix,
    DATABASE_URL: config.database.url,
    WRITER_LEASE_MS: String(config.writer.leaseMs),
    WRITER_BLOCK_MS: String(config.writer.blockMs),
    MAX_QUEUE_LENGTH: String(config.maxQueueLength),
    LOG_LEVEL: "warn",
    ...extra,
  };
}

export function testDeps(config: Config): Deps {
  return createDeps(config, createLogger(config.log, "api"));
}

export interface InProcessWriter {
  writer: Writer;
  db: Client;
  stop(): Promise<void>;
}

/** Starts a writer in this process (for tests that do not need to kill it). */
export async function startWriter(config: Config, hooks?: WriterHooks): Promise<InProcessWriter> {
  const db = await openWriterClient(config.database);
  const redis = connectRedis(config.redis, "writer");
  const blocking = connectRedis(config.redis, "writer-blocking", {
    // A read hears nothing for up to WRITER_BLOCK_MS; past that plus the timeout, the flow is dead.
    socketTimeout: config.writer.blockMs + config.redis.timeoutMs,
  });
  const writer = new Writer({
    config,
    log: createLogger(config.log, "writer"),
    db,
    redis,
    blocking,
    ...(hooks ? { hooks } : {}),
  });
  void writer.start();
  return {
    writer,
    db,
    stop: async () => {
      await writer.close();
      db.close();
    },
  };
}

/** Polls until `check` returns true, or fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const postVote = (option: unknown, headers: Record<string, string> = {}) =>
  new Request("http://votes.test/votes", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ option }),
  });

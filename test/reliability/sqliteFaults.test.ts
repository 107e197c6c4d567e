/**
 * SQLite faults under a running writer: the database locked by another process (the sqlite3
 * CLI holding `BEGIN EXCLUSIVE`), and the database made unwritable. Tests run as root, so
 * chmod stops nothing; `chattr +i` on the WAL file (which every commit appends to) makes the
 * kernel refuse writes even to root and even through already-open descriptors. In both cases
 * the writer retries with backoff, logs the cause, acknowledges nothing, and catches up alone
 * once the fault clears.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeSubmitVote } from "../../functions/submitVote.js";
import type { Config } from "../../lib/config.js";
import { localPath, openWriterClient } from "../../lib/db.js";
import type { Deps } from "../../lib/deps.js";
import { connectRedis } from "../../lib/redis.js";
import { Writer } from "../../writer/writer.js";
import {
  eventually,
  migratedDatabase,
  postVote,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import { sqliteCounts, sqliteVotes } from "./helpers.js";

// Waits are bounds, not targets: generous, for a machine busy with other suites.
vi.setConfig({ testTimeout: 60_000 });

const has = (command: string, args: string[]) => {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const hasSqlite3 = has("sqlite3", ["-version"]);
/** chattr works only as root on a file system with inode flags (ext4, xfs, btrfs). */
const canChattr = (() => {
  const dir = mkdtempSync(join(tmpdir(), "votes-chattr-"));
  const file = join(dir, "probe");
  writeFileSync(file, "");
  const ok = has("chattr", ["+i", file]) && has("chattr", ["-i", file]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();

let redis: RedisServer;
let config: Config;
let deps: Deps;
let logs: { msg: string; level: number }[];
let stopWriter: () => Promise<void>;

beforeEach(async () => {
  redis = await new RedisServer().start();
  config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
  deps = testDeps(config);
  logs = [];
  const log = pino(
    { level: "warn" },
    { write: (line: string) => void logs.push(JSON.parse(line)) },
  );
  const db = await openWriterClient(config.database);
  const client = connectRedis(config.redis, "writer");
  const blocking = connectRedis(config.redis, "writer-blocking");
  const writer = new Writer({ config, log, db, redis: client, blocking });
  void writer.start();
  stopWriter = async () => {
    await writer.close();
    db.close();
  };
  await eventually(
    async () => (await deps.redis().client.hexists(deps.keys.meta, "run")) === 1,
    20_000,
  );
});

afterEach(async () => {
  await stopWriter();
  await deps.close();
  await redis.destroy();
});

async function queue(options: string[]): Promise<number[]> {
  const submit = makeSubmitVote(deps);
  const ids: number[] = [];
  for (const option of options) {
    const answer = await submit(postVote(option));
    expect(answer.status).toBe(202);
    ids.push((await answer.json()).id);
  }
  return ids;
}

const pending = async () =>
  Number((await deps.redis().client.xpending(deps.keys.stream, deps.keys.group))[0]);
const warned = (pattern: RegExp) => logs.some((l) => pattern.test(l.msg));

/** Holds the database's write lock from another process until `release()`. */
async function lockDatabase(path: string): Promise<{ release(): Promise<void> }> {
  const child: ChildProcessWithoutNullStreams = spawn("sqlite3", [path]);
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  child.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  await eventually(() => out.includes("locked"), 5_000, "sqlite3 to take the lock");
  return {
    release: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end("COMMIT;\n.quit\n");
      await exited;
    },
  };
}

async function expectCaughtUp(ids: number[], options: string[]) {
  await eventually(
    async () => (await sqliteVotes(config.database.url)).length === ids.length,
    20_000,
    "catch-up",
  );
  expect((await sqliteVotes(config.database.url)).map((r) => r.id)).toEqual(ids);
  await eventually(async () => (await pending()) === 0);
  const expected: Record<string, number> = {};
  for (const option of options) expected[option] = (expected[option] ?? 0) + 1;
  expect(await sqliteCounts(config.database.url)).toEqual(expected);
  const published = await deps.redis().client.hgetall(deps.keys.totals);
  expect(Object.fromEntries(Object.entries(published).map(([k, v]) => [k, Number(v)]))).toEqual(
    expected,
  );
}

describe("SQLite faults", () => {
  it.skipIf(!hasSqlite3)(
    "a database locked by another process: retry, log, ack nothing, catch up",
    async () => {
      const path = localPath(config.database.url) as string;
      const first = await queue(["a"]);
      await eventually(async () => (await sqliteVotes(config.database.url)).length === 1, 20_000);

      const lock = await lockDatabase(path);
      const options = ["a", "b", "b"];
      const ids = await queue(options);
      await eventually(
        () => warned(/database file is locked/),
        10_000,
        "the writer to log the lock",
      );
      // Delivered to the writer (one batch or more), none acknowledged or trimmed, none written.
      expect(await pending()).toBeGreaterThan(0);
      expect(await deps.redis().client.xlen(deps.keys.stream)).toBe(3);
      expect((await sqliteVotes(config.database.url)).length).toBe(1);

      await lock.release();
      await expectCaughtUp([...first, ...ids], ["a", ...options]);
    },
  );

  it.skipIf(!canChattr)(
    "a database that cannot be written: retry, log, ack nothing, catch up",
    async () => {
      const path = localPath(config.database.url) as string;
      const first = await queue(["a"]);
      await eventually(async () => (await sqliteVotes(config.database.url)).length === 1, 20_000);

      const wal = `${path}-wal`;
      execFileSync("chattr", ["+i", wal]);
      try {
        const options = ["b", "c"];
        const ids = await queue(options);
        await eventually(
          () => warned(/could not write the batch to SQLite: the database file/),
          10_000,
          "the writer to log the failure",
        );
        expect(await pending()).toBeGreaterThan(0);
        expect(await deps.redis().client.xlen(deps.keys.stream)).toBe(2);
        expect((await sqliteVotes(config.database.url)).length).toBe(1);
        execFileSync("chattr", ["-i", wal]);
        await expectCaughtUp([...first, ...ids], ["a", ...options]);
      } finally {
        execFileSync("chattr", ["-i", wal]);
      }
    },
  );
});

/**
 * Guarantee 3, one writer: of two writer processes only one leads; when it dies the standby
 * takes over within the lease time and drains; a writer paused past its lease (SIGSTOP) wakes up
 * as a standby; and a writer whose token was superseded cannot commit (the fencing trigger).
 */
import type { Client } from "@libsql/client";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Config } from "../../lib/config.js";
import { keysFor } from "../../lib/keys.js";
import { applyVotes, isFenced } from "../../writer/sqlite.js";
import type { WriterRole } from "../../writer/writer.js";
import { eventually, migratedDatabase, startWriter, testConfig } from "../support/fixtures.js";
import { type Child, killChildren, leaderId, spawnWriter } from "../support/processes.js";
import { RedisServer } from "../support/redisServer.js";
import {
  Api,
  compareWithAccepted,
  countsByOption,
  countVotes,
  fenceToken,
  openSqlite,
  pendingIds,
  seeded,
  totalsTable,
  VoteLoad,
  votesById,
} from "./helpers.js";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
});

afterAll(async () => {
  await killChildren();
  redis?.disconnect();
  await server?.destroy();
});

interface Deployment {
  config: Config;
  db: Client;
  api: Api;
}

async function deployment(): Promise<Deployment> {
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    WRITER_BATCH_SIZE: "50",
  });
  const db = openSqlite(config.database.url);
  // Test instrument: a log of every fencing token that committed, in commit order.
  await db.batch([
    "CREATE TABLE fence_log (n INTEGER PRIMARY KEY AUTOINCREMENT, token INTEGER NOT NULL)",
    `CREATE TRIGGER fence_log AFTER UPDATE OF fence_token ON writer_state
       BEGIN INSERT INTO fence_log (token) VALUES (NEW.fence_token); END`,
  ]);
  return { config, db, api: new Api(config) };
}

const fenceLog = async (db: Client) =>
  (await db.execute("SELECT token FROM fence_log ORDER BY n")).rows.map((r) => Number(r[0]));

const leaseValue = (d: Deployment) => redis.get(keysFor(d.config.redis.prefix).lease);

async function drained(d: Deployment): Promise<void> {
  const { stream } = keysFor(d.config.redis.prefix);
  await eventually(
    async () =>
      (await pendingIds(redis, d.config.redis.prefix)).length === 0 &&
      (await redis.xlen(stream)) === 0,
    20_000,
    "the queue to drain",
  );
}

async function expectConsistent(d: Deployment, load: VoteLoad): Promise<void> {
  expect(load.refused.size).toBe(0);
  expect(compareWithAccepted(load.accepted, await votesById(d.db))).toEqual([]);
  const counts = await countsByOption(d.db);
  expect(await d.api.totals()).toEqual(counts);
  expect(await totalsTable(d.db)).toEqual(counts);
}

/** Starts two writers: the first leads, the second is running as its standby. */
async function twoWriters(d: Deployment): Promise<{ a: Child; b: Child; aId: string }> {
  const a = await spawnWriter(d.config, {}, "writer-a");
  const aId = await leaderId(a);
  const b = await spawnWriter(d.config, {}, "writer-b");
  await b.waitForLog(/writer starting/);
  await seeded(redis, d.config.redis.prefix);
  return { a, b, aId };
}

test("the standby never leads while the leader lives, and takes over within the lease when it is killed", async () => {
  const d = await deployment();
  const { a, b, aId } = await twoWriters(d);
  const load = new VoteLoad(d.api, 2, 2);
  // Both run side by side for a while (the standby polls the lease every 200 ms).
  await eventually(async () => (await countVotes(d.db)) >= 300, 20_000, "300 votes written");
  expect(await leaseValue(d)).toMatch(new RegExp(`^${aId}:`));
  expect(b.logs().filter((l) => /took the writer lease/.test(String(l.msg)))).toEqual([]);
  const aToken = await fenceToken(d.db);
  expect(new Set(await fenceLog(d.db))).toEqual(new Set([aToken]));

  const killedAt = Date.now();
  await a.kill();
  const bId = await leaderId(b, 10_000);
  await eventually(async () => (await leaseValue(d))?.startsWith(`${bId}:`) ?? false);
  const takeoverMs = Date.now() - killedAt;
  // The lease is 1 s: the standby must not wait much past it (bound generous for a busy machine).
  expect(takeoverMs).toBeLessThan(2 * d.config.writer.leaseMs);

  const before = load.accepted.length;
  await eventually(() => load.accepted.length > before + 200, 20_000, "votes after the takeover");
  await load.stop();
  await drained(d);
  await expectConsistent(d, load);
  expect(await fenceToken(d.db)).toBeGreaterThan(aToken);
  console.info(`takeover after SIGKILL: ${takeoverMs} ms (lease ${d.config.writer.leaseMs} ms)`);
  expect((await b.stop("SIGTERM")).code).toBe(0);
}, 60_000);

test("a leader paused past its lease (SIGSTOP) wakes up as a standby and commits nothing after the new leader", async () => {
  const d = await deployment();
  const { a, b, aId } = await twoWriters(d);
  const load = new VoteLoad(d.api, 2, 2);
  await eventually(async () => (await countVotes(d.db)) >= 100, 20_000, "100 votes written");
  const aToken = await fenceToken(d.db);

  a.signal("SIGSTOP");
  // The standby takes the lease in Redis once the paused leader's lease runs out.
  await eventually(
    async () => !((await leaseValue(d)) ?? `${aId}:`).startsWith(`${aId}:`),
    2 * d.config.writer.leaseMs + 1000,
    "the standby to take the lease",
  );
  // It records its token in SQLite and commits, unless the leader was paused inside a SQLite
  // transaction: then the file stays locked until the leader runs again (that transaction
  // began under the old token and may still commit; nothing after the new token may).
  const bCommitted = await eventually(
    () => b.logs().some((l) => /took the writer lease/.test(String(l.msg))),
    1500,
  ).then(
    () => true,
    () => false,
  );

  a.signal("SIGCONT");
  await a.waitForLog(/lost the writer lease/, 10_000);
  const bId = await leaderId(b, 10_000);
  const bToken = Number((await b.waitForLog(/took the writer lease/)).token);
  const before = load.accepted.length;
  await eventually(() => load.accepted.length > before + 200, 20_000, "votes after the wake-up");
  await load.stop();
  await drained(d);

  await expectConsistent(d, load);
  expect(await leaseValue(d)).toBe(`${bId}:${bToken}`);
  expect(await fenceToken(d.db)).toBe(bToken);
  expect(a.logs().filter((l) => /took the writer lease/.test(String(l.msg)))).toHaveLength(1);
  // Every commit, in order: A's token, then only B's; the woken writer committed nothing after.
  const log = await fenceLog(d.db);
  const firstB = log.indexOf(bToken);
  expect(firstB).toBeGreaterThan(0);
  expect(log.slice(0, firstB).every((t) => t === aToken)).toBe(true);
  expect(log.slice(firstB).every((t) => t === bToken)).toBe(true);
  console.info(
    bCommitted
      ? "SIGSTOP: the standby committed while the old leader slept"
      : "SIGSTOP: the old leader slept inside a SQLite transaction; the standby committed after it woke",
  );
  expect((await a.stop("SIGTERM")).code).toBe(0);
  expect((await b.stop("SIGTERM")).code).toBe(0);
}, 60_000);

test("a writer whose token was superseded cannot commit: applyVotes is fenced and writes nothing", async () => {
  const d = await deployment();
  const roles: WriterRole[] = [];
  const w = await startWriter(d.config, { onRole: (role) => roles.push(role) });
  await seeded(redis, d.config.redis.prefix);
  const first = await Promise.all(Array.from({ length: 10 }, () => d.api.accepted("option1")));
  await eventually(async () => (await countVotes(d.db)) === 10, 10_000, "10 votes written");
  const token = w.writer.lease.token;
  expect(token).toBeGreaterThan(0);

  // A newer writer records its token (what `fence()` does when it takes over).
  await d.db.execute({
    sql: "UPDATE writer_state SET fence_token = ? WHERE id = 1",
    args: [token + 1],
  });
  const totalsBefore = await totalsTable(d.db);
  const stale = applyVotes(w.db, token, [{ id: 1_000_000, option: "stale", createdAt: 1 }]);
  await expect(stale).rejects.toSatisfy(isFenced);
  expect(await countVotes(d.db)).toBe(10);
  expect(await totalsTable(d.db)).toEqual(totalsBefore);
  expect(await fenceToken(d.db)).toBe(token + 1);

  // The writer itself: its next batch is refused, it steps down to standby, and once the
  // (fictitious) newer writer's lease is gone it takes over with a higher token and writes it.
  const roleCount = roles.length;
  const second = await Promise.all(Array.from({ length: 10 }, () => d.api.accepted("option2")));
  await eventually(() => roles.slice(roleCount).includes("standby"), 10_000, "standby");
  await eventually(async () => (await countVotes(d.db)) === 20, 10_000, "the retry");
  expect(w.writer.lease.token).toBeGreaterThan(token + 1);
  expect(compareWithAccepted([...first, ...second], await votesById(d.db))).toEqual([]);
  expect(await totalsTable(d.db)).toEqual({ option1: 10, option2: 10 });
  await w.stop();
  await d.api.close();
});

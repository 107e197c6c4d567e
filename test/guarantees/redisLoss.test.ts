/**
 * Guarantee 4, ids are never reused, when Redis loses everything under a running service
 * (FLUSHALL, or a restart without persistence): POST /votes answers 503 until the writer has
 * re-seeded, then every new id is above every id handed out before, including the ids of votes
 * that were queued and lost with Redis; GET /votes agrees with SQLite again.
 */
import { afterAll, expect, test } from "vitest";
import { keysFor } from "../../lib/keys.js";
import { eventually, migratedDatabase, testConfig } from "../support/fixtures.js";
import { killChildren, spawnWriter } from "../support/processes.js";
import { RedisServer } from "../support/redisServer.js";
import {
  type AcceptedVote,
  Api,
  compareWithAccepted,
  countsByOption,
  countVotes,
  OPTIONS,
  openSqlite,
  pendingIds,
  seeded,
  totalsTable,
  VoteLoad,
  votesById,
} from "./helpers.js";

const servers: RedisServer[] = [];

afterAll(async () => {
  await killChildren();
  await Promise.all(servers.map((s) => s.destroy()));
});

const many = (api: Api, count: number): Promise<AcceptedVote[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => api.accepted(OPTIONS[i % 3] as string)));

const losses = {
  FLUSHALL: async (server: RedisServer) => {
    const client = server.client();
    await client.flushall();
    client.disconnect();
  },
  "a restart without persistence": async (server: RedisServer) => {
    await server.stop("SIGKILL");
    await server.start();
  },
};

test.each(Object.keys(losses) as (keyof typeof losses)[])(
  "Redis loses its data (%s): 503 until re-seeded, then no id is reused",
  async (loss) => {
    const server = await new RedisServer().start();
    servers.push(server);
    const config = testConfig({
      REDIS_URL: server.url,
      DATABASE_URL: await migratedDatabase(),
      WRITER_BATCH_SIZE: "50",
    });
    const { stream } = keysFor(config.redis.prefix);
    const db = openSqlite(config.database.url);
    const api = new Api(config);
    const check = server.client();
    check.on("error", () => {});

    const writer = await spawnWriter(config);
    await seeded(check, config.redis.prefix);
    const recorded = await many(api, 50);
    await eventually(async () => (await countVotes(db)) === 50, 10_000, "50 votes written");

    // Votes queued while the writer is paused: Redis will lose them before they are written
    // (one at a time, so that its blocked read is handed the first one only).
    writer.signal("SIGSTOP");
    const lost: AcceptedVote[] = [];
    for (let i = 0; i < 30; i++) lost.push(await api.accepted(OPTIONS[i % 3] as string));
    const highest = Math.max(...[...recorded, ...lost].map((v) => v.id));

    await losses[loss](server);
    for (let i = 0; i < 3; i++) {
      const refused = await api.vote("option1");
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.headers.get("retry-after")).toMatch(/^[0-9]+$/);
    }
    // Totals still answer, from SQLite.
    expect(await api.totals()).toEqual(await countsByOption(db));

    // The writer runs again; votes keep arriving, refused until it has re-seeded Redis.
    writer.signal("SIGCONT");
    const load = new VoteLoad(api, 2, 2);
    await eventually(() => load.accepted.length >= 200, 20_000, "votes accepted after the loss");
    await load.stop();
    await eventually(
      async () =>
        (await pendingIds(check, config.redis.prefix)).length === 0 &&
        (await check.xlen(stream)) === 0,
      20_000,
      "the queue to drain",
    );

    const reused = load.accepted.filter((v) => v.id <= highest).map((v) => v.id);
    expect(reused, `ids at or below ${highest}, handed out again`).toEqual([]);
    expect([...load.refused.keys()].filter((status) => status !== 503)).toEqual([]);
    // The queued votes are lost with Redis, but for those the paused writer had already been
    // delivered (it writes them when it wakes); everything else is written once.
    const rows = await votesById(db);
    const survivors = lost.filter((v) => rows.has(v.id));
    const accepted = [...recorded, ...survivors, ...load.accepted];
    expect(compareWithAccepted(accepted, rows)).toEqual([]);
    const counts = await countsByOption(db);
    expect(await api.totals()).toEqual(counts);
    expect(await totalsTable(db)).toEqual(counts);
    console.info(
      `${loss}: ${lost.length - survivors.length} of ${lost.length} queued votes lost with Redis (ids up to ${highest}); ` +
        `${load.refused.get(503) ?? 0} POSTs refused with 503 before the re-seed; ` +
        `first id after: ${Math.min(...load.accepted.map((v) => v.id))}`,
    );

    expect((await writer.stop("SIGTERM")).code).toBe(0);
    check.disconnect();
    await api.close();
    db.close();
  },
  60_000,
);

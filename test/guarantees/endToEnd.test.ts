/**
 * End to end, over real HTTP: `npm run local` and the writer (`tsx writer/main.ts`, the command of
 * `npm run writer`) as processes, a private Redis, a migrated SQLite file. The original README's
 * three calls, /healthz and /readyz; then guarantee 7: SIGTERM finishes the batch in hand,
 * releases the lease and exits 0.
 */
import { afterAll, expect, test } from "vitest";
import { keysFor } from "../../lib/keys.js";
import {
  childEnv,
  eventually,
  migratedDatabase,
  startWriter,
  testConfig,
} from "../support/fixtures.js";
import { Child, killChildren, spawnApi } from "../support/processes.js";
import { freePort, RedisServer } from "../support/redisServer.js";
import {
  compareWithAccepted,
  countsByOption,
  countVotes,
  OPTIONS,
  openSqlite,
  pendingIds,
  votesById,
} from "./helpers.js";

let server: RedisServer | undefined;

afterAll(async () => {
  await killChildren();
  await server?.destroy();
});

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test("the README's calls over HTTP, /healthz and /readyz, and a clean SIGTERM of the writer", async () => {
  server = await new RedisServer().start();
  const redis = server.client();
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    WRITER_BATCH_SIZE: "50",
  });
  const keys = keysFor(config.redis.prefix);
  const db = openSqlite(config.database.url);

  const { url } = await spawnApi(config, {}, "npm");
  const health = await fetch(`${url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });
  // No writer yet: not ready, and it says what is missing.
  const unready = await fetch(`${url}/readyz`);
  expect(unready.status).toBe(503);
  expect(unready.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(((await unready.json()) as { detail: string }).detail).toMatch(/queue: not seeded/);

  const env = childEnv(config, {
    LOG_LEVEL: "info",
    WRITER_BATCH_SIZE: "50",
    WRITER_METRICS_PORT: String(await freePort()),
  });
  const writer = new Child("writer", "node_modules/.bin/tsx", ["writer/main.ts"], env, {
    group: true,
  });
  await writer.waitForLog(/seeded Redis/);
  await eventually(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, "ready");

  // 1. Submit a vote (the writer paused for a moment, so the vote is still queued when read).
  writer.signal("SIGSTOP");
  const posted = await fetch(`${url}/votes`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"option": "option1"}',
  });
  expect(posted.status).toBe(202);
  const vote = (await posted.json()) as { id: number; created_at: string };
  expect(vote).toEqual({
    id: expect.any(Number),
    option: "option1",
    created_at: expect.stringMatching(RFC3339_MS),
    status: "queued",
  });
  expect(posted.headers.get("location")).toBe(`/votes/${vote.id}`);
  // 3. Get a specific vote: queued, then recorded once the writer has written it.
  const queued = await fetch(`${url}/votes/${vote.id}`);
  expect(queued.status).toBe(200);
  expect(await queued.json()).toEqual({ ...vote, status: "queued" });
  writer.signal("SIGCONT");
  await eventually(
    async () =>
      ((await (await fetch(`${url}/votes/${vote.id}`)).json()) as Record<string, unknown>)
        .status === "recorded",
    10_000,
    "the vote to be recorded",
  );
  expect(await (await fetch(`${url}/votes/${vote.id}`)).json()).toEqual({
    ...vote,
    status: "recorded",
  });
  // 2. Get vote totals.
  const totals = await fetch(`${url}/votes`);
  expect(totals.status).toBe(200);
  expect(await totals.json()).toEqual({ option1: 1 });

  // Clean shutdown with a backlog: the writer is paused while votes pile up, then stopped.
  const accepted: { id: number; option: string; created_at: string }[] = [vote as never];
  writer.signal("SIGSTOP");
  const until = Date.now() + 400;
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; Date.now() < until; i += 8) {
        const response = await fetch(`${url}/votes`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ option: OPTIONS[i % OPTIONS.length] }),
        });
        expect(response.status).toBe(202);
        accepted.push((await response.json()) as never);
      }
    }),
  );
  // SIGTERM while paused, delivered as it resumes: the batch its blocked read was handed.
  writer.signal("SIGTERM");
  const exit = await writer.stop("SIGCONT");
  expect(exit, writer.output()).toEqual({ code: 0, signal: null });
  expect(await redis.get(keys.lease), "the lease is released").toBeNull();
  await writer.waitForLog(/^stopped$/, 1000);
  // The batch in hand was finished: nothing committed to SQLite is left unacknowledged.
  const rows = await votesById(db);
  const unacknowledged = (await pendingIds(redis, config.redis.prefix)).filter((id) =>
    rows.has(Number(id.split("-")[0])),
  );
  expect(unacknowledged).toEqual([]);
  const writtenBeforeExit = rows.size;

  // What was still queued is written by the next writer: nothing accepted is lost.
  const next = await startWriter(config);
  await eventually(
    async () => (await countVotes(db)) === accepted.length && (await redis.xlen(keys.stream)) === 0,
    15_000,
    "the next writer to drain the queue",
  );
  await next.stop();
  expect(compareWithAccepted(accepted, await votesById(db))).toEqual([]);
  expect(await (await fetch(`${url}/votes`)).json()).toEqual(await countsByOption(db));
  console.info(
    `SIGTERM with a backlog: ${writtenBeforeExit} of ${accepted.length} votes written before exit 0, the rest by the next writer`,
  );
  redis.disconnect();
  db.close();
}, 60_000);

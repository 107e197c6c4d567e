/**
 * Idempotency-Key on POST /votes, through the function against a real Redis: a retry returns
 * the same 202 body and queues nothing; the key with another body is a 422; a burst of
 * concurrent requests with one key queues exactly one vote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeSubmitVote } from "../../functions/submitVote.js";
import type { Config } from "../../lib/config.js";
import type { Deps } from "../../lib/deps.js";
import {
  eventually,
  migratedDatabase,
  postVote,
  startWriter,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";

let redis: RedisServer;
let config: Config;
let deps: Deps;
let submit: ReturnType<typeof makeSubmitVote>;
const xlen = () => deps.redis().client.xlen(deps.keys.stream);

beforeAll(async () => {
  redis = await new RedisServer().start();
  config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
  deps = testDeps(config);
  submit = makeSubmitVote(deps);
  // A writer seeds the queue, then stops: every accepted vote stays in the stream to be counted.
  const writer = await startWriter(config);
  await eventually(
    async () => (await deps.redis().client.hexists(deps.keys.meta, "run")) === 1,
    20_000,
  );
  await writer.stop();
});

afterAll(async () => {
  await deps.close();
  await redis.destroy();
});

describe("Idempotency-Key", () => {
  it("a retry with the same key and body returns the same 202 body and queues nothing", async () => {
    const first = await submit(postVote("alpha", { "Idempotency-Key": "retry-1" }));
    expect(first.status).toBe(202);
    const body = await first.json();
    const length = await xlen();
    for (let i = 0; i < 3; i++) {
      const again = await submit(postVote("alpha", { "Idempotency-Key": "retry-1" }));
      expect(again.status).toBe(202);
      expect(again.headers.get("Location")).toBe(`/votes/${body.id}`);
      expect(again.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await again.json()).toEqual(body);
    }
    expect(await xlen()).toBe(length);
    // Without a key, the same body is a new vote.
    const fresh = await submit(postVote("alpha"));
    expect((await fresh.json()).id).not.toBe(body.id);
    expect(await xlen()).toBe(length + 1);
  });

  it("the same key with another body is a 422 and queues nothing", async () => {
    const first = await submit(postVote("alpha", { "Idempotency-Key": "retry-2" }));
    expect(first.status).toBe(202);
    const length = await xlen();
    const other = await submit(postVote("beta", { "Idempotency-Key": "retry-2" }));
    expect(other.status).toBe(422);
    expect(other.headers.get("Content-Type")).toBe("application/problem+json");
    expect((await other.json()).type).toBe("urn:votes:problem:idempotency-key-reused");
    expect(await xlen()).toBe(length);
  });

  it("many concurrent requests with one key queue exactly one vote", async () => {
    const length = await xlen();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => submit(postVote("gamma", { "Idempotency-Key": "burst" }))),
    );
    const bodies = await Promise.all(answers.map((a) => a.json()));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await xlen()).toBe(length + 1);
    const [entry] = await deps
      .redis()
      .client.xrange(deps.keys.stream, `${bodies[0].id}-0`, `${bodies[0].id}-0`);
    expect(entry?.[1]).toEqual([
      "option",
      "gamma",
      "created_at",
      String(Date.parse(bodies[0].created_at)),
    ]);
  });
});

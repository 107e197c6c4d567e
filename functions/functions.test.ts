import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../lib/deps.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  postVote,
  startWriter,
  testConfig,
  testDeps,
} from "../test/support/fixtures.js";
import { RedisServer } from "../test/support/redisServer.js";
import { makeGetTotals } from "./getTotals.js";
import { makeGetVote } from "./getVote.js";
import { makeSubmitVote } from "./submitVote.js";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
});
afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});

async function deployment(env: Record<string, string> = {}) {
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    ...env,
  });
  const deps: Deps = testDeps(config);
  return {
    config,
    deps,
    submitVote: makeSubmitVote(deps),
    getTotals: makeGetTotals(deps),
    getVote: makeGetVote(deps),
    get: (path: string) => new Request(`http://votes.test${path}`),
  };
}

describe("the functions, called with a Request", () => {
  let d: Awaited<ReturnType<typeof deployment>>;
  let writer: InProcessWriter;

  beforeAll(async () => {
    d = await deployment();
    writer = await startWriter(d.config);
    await eventually(async () => (await redis.hget(d.deps.keys.meta, "run")) !== null);
  });
  afterAll(async () => {
    await writer.stop();
    await d.deps.close();
  });

  it("submitVote answers 202 with a real id, Location and created_at", async () => {
    const before = Date.now();
    const response = await d.submitVote(postVote("option1"));
    expect(response.status).toBe(202);
    const body = await response.json();
    expect(body).toMatchObject({ option: "option1", status: "queued" });
    expect(Number.isSafeInteger(body.id) && body.id > 0).toBe(true);
    expect(response.headers.get("location")).toBe(`/votes/${body.id}`);
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(body.created_at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it("getVote finds a vote at once, then as recorded with the same body", async () => {
    const accepted = await (await d.submitVote(postVote("option2"))).json();
    const first = await d.getVote(d.get(`/votes/${accepted.id}`));
    expect(first.status).toBe(200);
    expect(["queued", "recorded"]).toContain((await first.json()).status);
    await eventually(async () => {
      const body = await (await d.getVote(d.get(`/votes/${accepted.id}`))).json();
      return body.status === "recorded";
    });
    const recorded = await (await d.getVote(d.get(`/votes/${accepted.id}`))).json();
    expect(recorded).toEqual({ ...accepted, status: "recorded" });
  });

  it("getTotals counts what the writer recorded", async () => {
    const ids: number[] = [];
    for (const option of ["x", "x", "y"]) {
      ids.push((await (await d.submitVote(postVote(option))).json()).id);
    }
    await eventually(async () => {
      const totals = await (await d.getTotals(d.get("/votes"))).json();
      return totals.x === 2 && totals.y === 1;
    });
    const response = await d.getTotals(d.get("/votes"));
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-totals-source")).toBe("redis");
  });

  it("getTotals falls back to SQLite when the totals hash is gone", async () => {
    await eventually(async () => (await redis.xlen(d.deps.keys.stream)) === 0);
    const fromRedis = await (await d.getTotals(d.get("/votes"))).json();
    await writer.stop(); // or it would re-seed the hash within a second
    await redis.del(d.deps.keys.meta, d.deps.keys.totals);
    const response = await d.getTotals(d.get("/votes"));
    expect(response.headers.get("x-totals-source")).toBe("sqlite");
    expect(await response.json()).toEqual(fromRedis);
  });

  it("getVote answers 404 for an unknown id and 400 for a bad one", async () => {
    const missing = await d.getVote(d.get("/votes/999999999"));
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect((await d.getVote(d.get("/votes/0"))).status).toBe(400);
  });

  it("each function echoes a sane X-Request-Id, on errors too, and makes one up otherwise", async () => {
    const withId = (path: string, id: string, method = "GET") =>
      new Request(`http://votes.test${path}`, { method, headers: { "X-Request-Id": id } });
    const answers = [
      await d.getTotals(withId("/votes", "totals-1")),
      await d.getVote(withId("/votes/999999999", "vote-404")),
      await d.submitVote(withId("/votes", "post-415", "POST")),
    ];
    expect(answers.map((r) => [r.status, r.headers.get("x-request-id")])).toEqual([
      [200, "totals-1"],
      [404, "vote-404"],
      [415, "post-415"],
    ]);
    const fresh = await d.getVote(d.get("/votes/999999999"));
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const insane = await d.getTotals(withId("/votes", "bad id\twith tab"));
    expect(insane.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("each function answers 405 with Allow for a wrong method", async () => {
    const del = (path: string) => new Request(`http://votes.test${path}`, { method: "DELETE" });
    const responses = [
      await d.submitVote(new Request("http://votes.test/votes")),
      await d.getTotals(del("/votes")),
      await d.getVote(del("/votes/1")),
    ];
    expect(responses.map((r) => [r.status, r.headers.get("allow")])).toEqual([
      [405, "POST"],
      [405, "GET"],
      [405, "GET"],
    ]);
  });
});

describe("before any writer seeded Redis", () => {
  it("submitVote answers 503 with Retry-After and queues nothing", async () => {
    const d = await deployment();
    const response = await d.submitVote(postVote("option1"));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect((await response.json()).type).toBe("urn:votes:problem:not-seeded");
    expect(await redis.exists(d.deps.keys.stream)).toBe(0);
    await d.deps.close();
  });
});

describe("VOTE_OPTIONS", () => {
  it("accepts listed options only", async () => {
    const d = await deployment({ VOTE_OPTIONS: "option1,option2" });
    const writer = await startWriter(d.config);
    await eventually(async () => (await redis.hget(d.deps.keys.meta, "run")) !== null);
    expect((await d.submitVote(postVote("option2"))).status).toBe(202);
    const refused = await d.submitVote(postVote("option3"));
    expect(refused.status).toBe(422);
    expect((await refused.json()).detail).toContain("option1, option2");
    await writer.stop();
    await d.deps.close();
  });
});

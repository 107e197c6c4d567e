import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./local.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  startWriter,
  testConfig,
  testDeps,
} from "./test/support/fixtures.js";
import { RedisServer } from "./test/support/redisServer.js";

let server: RedisServer;
let redis: Redis;
let app: ReturnType<typeof createApp>;
let deps: ReturnType<typeof testDeps>;
let writer: InProcessWriter | undefined;

beforeAll(async () => {
  server = await new RedisServer().start();
  redis = server.client();
  const config = testConfig({
    REDIS_URL: server.url,
    DATABASE_URL: await migratedDatabase(),
    VOTE_OPTIONS: "option1,option2,😀",
  });
  deps = testDeps(config);
  app = createApp(deps);
});
afterAll(async () => {
  await writer?.stop();
  await deps.close();
  redis.disconnect();
  await server.destroy();
});

const post = (
  body: BodyInit | null,
  headers: Record<string, string> = { "content-type": "application/json" },
) => app.request("/votes", { method: "POST", headers, body });

describe("readiness before a writer", () => {
  it("/healthz answers while /readyz names the missing writer", async () => {
    expect((await app.request("/healthz")).status).toBe(200);
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(ready.headers.get("content-type")).toBe("application/problem+json");
    const body = await ready.json();
    expect(body.detail).toContain("queue: not seeded");
    expect(body.checks).toMatchObject({ redis: "ok", database: "ok" });
  });
});

describe("the Hono adapter", () => {
  beforeAll(async () => {
    writer = await startWriter(deps.config);
    await eventually(async () => (await app.request("/readyz")).status === 200, 10_000, "ready");
  });

  it("routes the three calls of the API to the functions", async () => {
    const accepted = await post(JSON.stringify({ option: "option1" }));
    expect(accepted.status).toBe(202);
    const vote = await accepted.json();
    expect((await app.request(accepted.headers.get("location") ?? "")).status).toBe(200);
    await eventually(async () => (await (await app.request("/votes")).json()).option1 === 1);
    expect((await (await app.request(`/votes/${vote.id}`)).json()).status).toBe("recorded");
  });

  it("answers problem+json 404 for an unknown route and 405 with Allow for a wrong method", async () => {
    const missing = await app.request("/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({ status: 404, title: "Not Found" });
    const wrong = await app.request("/votes", { method: "DELETE" });
    expect([wrong.status, wrong.headers.get("allow")]).toEqual([405, "GET, POST"]);
    const wrongId = await app.request("/votes/1", { method: "PUT" });
    expect([wrongId.status, wrongId.headers.get("allow")]).toEqual([405, "GET"]);
  });
});

describe("every bad input of the contract", () => {
  const cases: [string, () => Promise<Response>, number][] = [
    ["malformed JSON", () => post('{"option":'), 400],
    ["a body that is not an object", () => post('["option1"]'), 400],
    ["no option", () => post('{"choice":"option1"}'), 400],
    ["an option that is not a string", () => post('{"option":42}'), 400],
    ["an empty option", () => post('{"option":""}'), 422],
    ["an option of 65 characters", () => post(JSON.stringify({ option: "o".repeat(65) })), 422],
    ["a control character", () => post('{"option":"option\\u00071"}'), 422],
    ["an option off the allow-list", () => post('{"option":"option3"}'), 422],
    [
      "a body over 1 KiB",
      () => post(JSON.stringify({ option: "option1", pad: "x".repeat(1100) })),
      413,
    ],
    [
      "a text/plain body",
      () => post('{"option":"option1"}', { "content-type": "text/plain" }),
      415,
    ],
    ["no content type", () => post('{"option":"option1"}', {}), 415],
    [
      "a bad Idempotency-Key",
      () =>
        post('{"option":"option1"}', { "content-type": "application/json", "idempotency-key": "" }),
      400,
    ],
    ["a non-numeric id", () => app.request("/votes/abc"), 400],
    ["id 0", () => app.request("/votes/0"), 400],
    ["an id above 2^53-1", () => app.request("/votes/9007199254740992"), 400],
    ["an unknown id", () => app.request("/votes/123456789"), 404],
  ];

  it.each(cases)("%s: status and problem+json, nothing enqueued", async (_, send, status) => {
    const before = await redis.xlen(deps.keys.stream);
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const body = await response.json();
    expect(Object.keys(body).sort()).toEqual(["detail", "status", "title", "type"]);
    expect(body.status).toBe(status);
    expect(body.detail).not.toMatch(/at .*\.ts:\d+/);
    expect(await redis.xlen(deps.keys.stream)).toBe(before);
  });

  it("accepts an emoji option from the allow-list, counted as one character", async () => {
    expect((await post(JSON.stringify({ option: "😀" }))).status).toBe(202);
  });
});

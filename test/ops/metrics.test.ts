import { type ChildProcess, spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../lib/config.js";
import type { Deps } from "../../lib/deps.js";
import { createApp } from "../../local.js";
import {
  childEnv,
  eventually,
  migratedDatabase,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { freePort, RedisServer } from "../support/redisServer.js";
import { parseMetrics } from "./prometheus.js";
import { ROOT } from "./run.js";

let redis: RedisServer;
let config: Config;
let deps: Deps;
let api: ReturnType<typeof serve>;
let base: string;
let writer: ChildProcess;
let writerMetrics: string;

beforeAll(async () => {
  redis = await new RedisServer().start();
  config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
  deps = testDeps(config);
  api = serve({ fetch: createApp(deps).fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => api.once("listening", resolve));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const port = await freePort();
  writerMetrics = `http://127.0.0.1:${port}/metrics`;
  writer = spawn(process.execPath, ["--import", "tsx", "writer/main.ts"], {
    cwd: ROOT,
    env: childEnv(config, { WRITER_METRICS_PORT: String(port) }),
    stdio: "ignore",
  });
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 15_000, "ready");
});

afterAll(async () => {
  writer?.kill("SIGTERM");
  await new Promise((resolve) => writer?.once("exit", resolve));
  await new Promise((resolve) => api?.close(resolve));
  await deps?.close();
  await redis?.destroy();
});

const vote = (body: string, contentType = "application/json") =>
  fetch(`${base}/votes`, { method: "POST", headers: { "Content-Type": contentType }, body });

async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

describe("/metrics after known traffic", () => {
  it("counts accepted and rejected votes by reason, times routes, and shows the writer's work", async () => {
    for (let i = 0; i < 3; i++) expect((await vote('{"option":"red"}')).status).toBe(202);
    expect((await vote("{nope")).status).toBe(400);
    expect((await vote("{nope")).status).toBe(400);
    expect((await vote('{"option":"red"}', "text/plain")).status).toBe(415);
    expect((await fetch(`${base}/votes/abc`)).status).toBe(400);
    await eventually(
      async () => (await (await fetch(`${base}/votes`)).json()).red === 3,
      10_000,
      "votes written",
    );

    await eventually(async () => {
      const m = await scrape(`${base}/metrics`);
      return m.get('votes_rejected_total{reason="unsupported-media-type"}') === 1;
    });
    const api = await scrape(`${base}/metrics`);
    expect(api.get("votes_accepted_total")).toBe(3);
    expect(api.get('votes_rejected_total{reason="malformed-json"}')).toBe(2);
    expect(api.get('votes_rejected_total{reason="unsupported-media-type"}')).toBe(1);
    expect(
      api.get('http_request_duration_seconds_count{method="POST",route="/votes",status="202"}'),
    ).toBe(3);
    expect(
      api.get('http_request_duration_seconds_count{method="GET",route="/votes/:id",status="400"}'),
    ).toBe(1);
    expect(api.get("votes_queue_length")).toBe(0);
    expect(api.get("votes_writer_lag_seconds")).toBe(0);
    expect(api.get("votes_writer_lease_held")).toBe(1);
    expect(api.get("votes_redis_up")).toBe(1);

    const written = await scrape(writerMetrics);
    expect(written.get("votes_written_total")).toBe(3);
    expect(written.get('votes_writer_role{role="leader"}')).toBe(1);
    expect(written.get('votes_writer_role{role="standby"}')).toBe(0);
    expect(written.get("votes_writer_batch_size_sum")).toBe(3);
    expect(written.get("votes_writer_apply_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(written.get("votes_dead_lettered_total")).toBe(0);
  });

  it("shows queued votes and the oldest one's age when no writer drains them", async () => {
    writer.kill("SIGSTOP");
    try {
      const before = Date.now();
      for (let i = 0; i < 2; i++) expect((await vote('{"option":"blue"}')).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const m = await scrape(`${base}/metrics`);
      expect(m.get("votes_queue_length")).toBe(2);
      const lag = m.get("votes_writer_lag_seconds") ?? 0;
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThanOrEqual((Date.now() - before) / 1000 + 0.01);
    } finally {
      writer.kill("SIGCONT");
    }
  });

  it("echoes a sane X-Request-Id and makes one up otherwise", async () => {
    const echoed = await fetch(`${base}/healthz`, { headers: { "X-Request-Id": "abc-123" } });
    expect(echoed.headers.get("x-request-id")).toBe("abc-123");
    const fresh = await fetch(`${base}/healthz`, {
      headers: { "X-Request-Id": "bad id\twith tab" },
    });
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const wrongMethod = await fetch(`${base}/votes/1`, { method: "DELETE" });
    expect(wrongMethod.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const m = await scrape(`${base}/metrics`);
    expect(
      m.get('http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}'),
    ).toBe(1);
    // A wrong method on a known path is labelled with that path, not as unmatched.
    expect(
      m.get('http_request_duration_seconds_count{method="DELETE",route="/votes/:id",status="405"}'),
    ).toBe(1);
  });

  it("says Redis is down, and the queue unknown (NaN, not 0), when Redis does not answer", async () => {
    await redis.stop();
    const m = await scrape(`${base}/metrics`);
    expect(m.get("votes_redis_up")).toBe(0);
    expect(m.get("votes_queue_length")).toBeNaN();
    expect(m.get("votes_writer_lag_seconds")).toBeNaN();
  });
});

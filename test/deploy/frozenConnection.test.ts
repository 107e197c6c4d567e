/**
 * A FaaS container is frozen between invocations; while it sleeps, its Redis connection can die
 * without a FIN or RST reaching it (a NAT or the provider dropped the idle flow). After the thaw,
 * the function must not answer 503 forever on that dead socket: the first call may time out, then
 * the client reconnects. A TCP proxy that silently stops forwarding plays the dead flow.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeGetTotals } from "../../functions/getTotals.js";
import { makeSubmitVote } from "../../functions/submitVote.js";
import type { Deps } from "../../lib/deps.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  postVote,
  startWriter,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";

/** Forwards TCP to Redis; `blackholeAll()` makes the open flows drop every byte, both ways. */
class SilentDropProxy {
  #server: Server | undefined;
  #flows = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<this> {
    this.#server = createServer((client) => {
      const upstream = tcpConnect(this.target, "127.0.0.1");
      const flow = { client, upstream, dead: false };
      this.#flows.add(flow);
      client.on("data", (d) => flow.dead || upstream.write(d));
      upstream.on("data", (d) => flow.dead || client.write(d));
      const end = () => {
        this.#flows.delete(flow);
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        s.on("error", end);
        s.on("close", end);
      }
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this;
  }

  blackholeAll(): number {
    for (const flow of this.#flows) flow.dead = true;
    return this.#flows.size;
  }

  async stop(): Promise<void> {
    for (const flow of this.#flows) {
      flow.client.destroy();
      flow.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

let redis: RedisServer;
let proxy: SilentDropProxy;
let writer: InProcessWriter;
let deps: Deps;

beforeAll(async () => {
  redis = await new RedisServer().start();
  proxy = await new SilentDropProxy(redis.port).start();
  const database = await migratedDatabase();
  const writerConfig = testConfig({ REDIS_URL: redis.url, DATABASE_URL: database });
  writer = await startWriter(writerConfig);
  deps = testDeps(
    testConfig({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_PREFIX: writerConfig.redis.prefix,
      REDIS_TIMEOUT_MS: "300",
      DATABASE_URL: database,
    }),
  );
});

afterAll(async () => {
  await deps?.close();
  await writer?.stop();
  await proxy?.stop();
  await redis?.destroy();
});

describe("a function whose Redis connection died while it was frozen", () => {
  it("answers again after at most a timed-out call or two, on a new connection", async () => {
    const submit = makeSubmitVote(deps);
    const totals = makeGetTotals(deps);
    await eventually(
      async () => (await submit(postVote("before"))).status === 202,
      10_000,
      "first vote",
    );
    expect(proxy.blackholeAll()).toBeGreaterThan(0);

    // The thaw: calls arrive on the dead flow. None may hang past a few timeouts.
    const statuses: number[] = [];
    for (let i = 0; i < 8 && statuses.at(-1) !== 202; i++) {
      const started = Date.now();
      const response = await submit(postVote("after"));
      statuses.push(response.status);
      expect(Date.now() - started).toBeLessThan(5_000);
      if (response.status !== 202) {
        expect(response.status).toBe(503);
        expect(response.headers.get("retry-after")).not.toBeNull();
      }
    }
    expect(statuses.at(-1), `statuses: ${statuses.join(",")}`).toBe(202);
    expect(statuses.length).toBeLessThanOrEqual(3);
    expect((await totals(new Request("http://votes.test/votes"))).status).toBe(200);
  });
});

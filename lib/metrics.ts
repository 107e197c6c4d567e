/**
 * Prometheus metrics (prom-client), one registry per process: the API's request and vote
 * counters, the writer's batch histograms and role, and queue gauges sampled from Redis at
 * scrape time (one pipelined round trip). Instrumentation lives in the adapters (local.ts,
 * writer/main.ts), never in the functions, and costs a few increments per request.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Keys } from "./keys.js";
import type { RedisConnection } from "./redis.js";
import { type Recorder, RequestDurations } from "./requestDurations.js";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Queue gauges, refreshed from Redis before each scrape. */
class QueueGauges {
  readonly #length: Gauge;
  readonly #oldest: Gauge;
  readonly #dead: Gauge;
  readonly #lease: Gauge;
  readonly #up: Gauge;

  constructor(
    registry: Registry,
    private readonly redis: () => RedisConnection,
    private readonly keys: Keys,
  ) {
    const registers = [registry];
    this.#up = new Gauge({
      name: "votes_redis_up",
      help: "1 if Redis answered the last scrape's queue sample, else 0",
      registers,
    });
    this.#length = new Gauge({
      name: "votes_queue_length",
      help: "Votes in the Redis stream not yet trimmed (XLEN): accepted, not yet written",
      registers,
    });
    this.#oldest = new Gauge({
      name: "votes_writer_lag_seconds",
      help: "Age of the oldest unwritten vote (first stream entry's created_at); 0 when the queue is empty",
      registers,
    });
    this.#dead = new Gauge({
      name: "votes_dead_letter_length",
      help: "Entries in the dead-letter stream (XLEN)",
      registers,
    });
    this.#lease = new Gauge({
      name: "votes_writer_lease_held",
      help: "1 if some writer holds the lease, else 0",
      registers,
    });
  }

  async refresh(): Promise<void> {
    try {
      const results = await this.redis()
        .client.pipeline()
        .xlen(this.keys.stream)
        .xrange(this.keys.stream, "-", "+", "COUNT", 1)
        .xlen(this.keys.deadLetter)
        .exists(this.keys.lease)
        .exec();
      const values = (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      const [length, first, dead, lease] = values as [number, [string, string[]][], number, number];
      this.#length.set(length);
      this.#oldest.set(oldestAgeSeconds(first[0]?.[1]));
      this.#dead.set(dead);
      this.#lease.set(lease > 0 ? 1 : 0);
      this.#up.set(1);
    } catch {
      this.#up.set(0);
      // Unknown, not zero: an empty-looking queue must not hide an outage.
      for (const gauge of [this.#length, this.#oldest, this.#dead, this.#lease])
        gauge.set(Number.NaN);
    }
  }
}

function oldestAgeSeconds(fields: string[] | undefined): number {
  if (!fields) return 0;
  const at = fields.indexOf("created_at");
  const createdAt = at >= 0 ? Number(fields[at + 1]) : Number.NaN;
  return Number.isFinite(createdAt) ? Math.max(0, (Date.now() - createdAt) / 1000) : 0;
}

/** The reason in a problem+json `type` (`urn:votes:problem:<reason>`). */
export function reasonOfProblemType(type: unknown): string {
  const match = typeof type === "string" ? /^urn:votes:problem:([\w.-]+)$/.exec(type) : null;
  return match?.[1] ?? "unknown";
}

export interface ApiMetrics {
  readonly registry: Registry;
  /** The request-duration recorder of one matched route pattern (e.g. `/votes/:id`). */
  route(route: string): Recorder;
  voteAccepted(): void;
  voteRejected(reason: string): void;
  /** The Prometheus text, with the queue gauges sampled now. */
  render(): Promise<string>;
}

export function createApiMetrics(redis: () => RedisConnection, keys: Keys): ApiMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const queue = new QueueGauges(registry, redis, keys);
  const durations = new RequestDurations(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method, matched route and status",
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const accepted = new Counter({
    name: "votes_accepted_total",
    help: "Votes answered 202 (queued), idempotent replays included",
    registers,
  });
  const rejected = new Counter({
    name: "votes_rejected_total",
    help: "POST /votes answered with an error, by problem reason",
    labelNames: ["reason"] as const,
    registers,
  });
  return {
    registry,
    route: (route) => durations.route(route),
    voteAccepted: () => accepted.inc(),
    voteRejected: (reason) => rejected.inc({ reason }),
    render: async () => {
      await queue.refresh();
      const text = await registry.metrics();
      return `${text.endsWith("\n") ? text : `${text}\n`}\n${durations.render()}`;
    },
  };
}

export interface BatchSample {
  size: number;
  applied: number;
  deadLettered: number;
  applyMs: number;
  lagMs: number;
}

export interface WriterMetrics {
  readonly registry: Registry;
  onBatch(report: BatchSample): void;
  onRole(role: string): void;
  render(): Promise<string>;
}

const ROLES = ["starting", "standby", "leader", "stopped"] as const;

export function createWriterMetrics(redis: () => RedisConnection, keys: Keys): WriterMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const queue = new QueueGauges(registry, redis, keys);
  const batchSize = new Histogram({
    name: "votes_writer_batch_size",
    help: "Entries per batch the writer committed",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers,
  });
  const applyDuration = new Histogram({
    name: "votes_writer_apply_duration_seconds",
    help: "Time to apply one batch in one SQLite transaction",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const commitLag = new Histogram({
    name: "votes_writer_commit_lag_seconds",
    help: "Age of each batch's oldest vote when the batch committed",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers,
  });
  const written = new Counter({
    name: "votes_written_total",
    help: "Votes the writer applied to SQLite (replays of already written votes included)",
    registers,
  });
  const dead = new Counter({
    name: "votes_dead_lettered_total",
    help: "Entries this writer moved to the dead-letter stream",
    registers,
  });
  const role = new Gauge({
    name: "votes_writer_role",
    help: "1 for this writer's current role (starting, standby, leader, stopped)",
    labelNames: ["role"] as const,
    registers,
  });
  for (const r of ROLES) role.set({ role: r }, r === "starting" ? 1 : 0);
  return {
    registry,
    onBatch: (report) => {
      batchSize.observe(report.size);
      applyDuration.observe(report.applyMs / 1000);
      commitLag.observe(report.lagMs / 1000);
      written.inc(report.applied);
      dead.inc(report.deadLettered);
    },
    onRole: (current) => {
      for (const r of ROLES) role.set({ role: r }, r === current ? 1 : 0);
    },
    render: async () => {
      await queue.refresh();
      return registry.metrics();
    },
  };
}

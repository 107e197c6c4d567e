/**
 * `npm run bench [-- --quick]`: the service side by side with its ceilings, in one run.
 *
 * Starts a private Redis, the real API (WEB_CONCURRENCY processes) and writer as separate
 * processes, and a bare Hono server served the same way; drives them with wrk (autocannon when
 * wrk is missing); measures throughput, latency, drain rate, writer lag under load, growth to
 * millions of rows, the cost of Redis `appendfsync always`, the memory-reducer effect and peak
 * RSS. Prints one table and writes the raw figures to bench/results/<time>.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import type { Redis } from "ioredis";
import { loadConfig } from "../lib/config.js";
import { drizzleOf } from "../lib/db.js";
import { keysFor } from "../lib/keys.js";
import { MIGRATIONS_FOLDER } from "../lib/migrations.js";
import { API_NODE_FLAGS } from "../lib/nodeFlags.js";
import { freePort, RedisServer } from "../test/support/redisServer.js";
import { bigDatabase, copyOf } from "./bigDb.js";
import { type Entries, prepareEntries } from "./build.js";
import { findWrk, type LoadResult, type LoadTarget, runLoad } from "./load.js";
import { REPO_ROOT, Service, waitHttp } from "./processes.js";
import { fmt, type Row, renderTable } from "./report.js";
import { sqliteCeiling } from "./sqliteCeiling.js";
import { submitLoop } from "./submitLoop.js";

const quick = process.argv.includes("--quick");
const P = quick
  ? {
      seconds: 2,
      warmup: 1,
      underLoad: 3,
      drainVotes: 20_000,
      bigRows: 200_000,
      idle: 1,
      ceilingSeconds: 2,
    }
  : {
      seconds: 10,
      warmup: 3,
      underLoad: 30,
      drainVotes: 1_000_000,
      bigRows: 10_000_000,
      idle: 13,
      ceilingSeconds: 10,
    };
const CONNECTIONS = 50;
const PROCESSES = Number(process.env.BENCH_WEB_CONCURRENCY ?? 2);
/** How the API and the bare server are started (the flags of `npm run local`). */
const API_FLAGS: readonly string[] = API_NODE_FLAGS;
/** The same without `--no-memory-reducer`, for the memory-reducer check. */
const REDUCER_ON_FLAGS = API_FLAGS.filter((flag) => flag !== "--no-memory-reducer");
const EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const BODIES = ["option1", "option2", "option3", "option4"].map((o) =>
  JSON.stringify({ option: o }),
);

const log = (line: string) =>
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const workDir = mkdtempSync(join(tmpdir(), "votes-bench-"));
const services: Service[] = [];
const redisServer = new RedisServer();
const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  mode: quick ? "quick" : "full",
  parameters: { ...P, connections: CONNECTIONS, processes: PROCESSES, apiFlags: API_FLAGS },
  loadGenerator: findWrk() ? "wrk" : "autocannon",
};

interface Deployment {
  prefix: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
}

function deployment(prefix: string, databaseUrl: string): Deployment {
  return {
    prefix,
    databaseUrl,
    env: {
      ...process.env,
      NODE_OPTIONS: "",
      REDIS_URL: redisServer.url,
      REDIS_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      MAX_QUEUE_LENGTH: "5000000",
      LOG_LEVEL: "warn",
    },
  };
}

let entries: Entries;

function startWriter(d: Deployment, name = "writer"): Service {
  const s = new Service(name, [...EXTRA_FLAGS, ...entries.args("writer")], {
    ...d.env,
    LOG_LEVEL: "info",
  });
  services.push(s);
  return s;
}

async function startApi(
  d: Deployment,
  name: string,
  flags = API_FLAGS,
  entry: "local" | "bare" = "local",
): Promise<{ service: Service; base: string }> {
  const port = await freePort();
  const service = new Service(name, [...flags, ...EXTRA_FLAGS, ...entries.args(entry)], {
    ...d.env,
    PORT: String(port),
    WEB_CONCURRENCY: String(PROCESSES),
  });
  services.push(service);
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(`${base}/${entry === "local" ? "healthz" : "votes"}`);
  // Every worker of the cluster listens before the load starts.
  await sleep(300);
  return { service, base };
}

const seeded = (line: string) => line.includes("seeded Redis from SQLite");

/** A load's figures, and the CPU per request of the server's processes when they were given. */
type Measured = LoadResult & { cpuUsPerRequest?: number };

async function load(
  name: string,
  target: LoadTarget,
  seconds = P.seconds,
  server?: Service,
): Promise<Measured> {
  // Unrecorded first: the JIT has compiled the path before the measured seconds start.
  await runLoad(target, { connections: CONNECTIONS, seconds: P.warmup });
  const cpuBefore = server?.cpuSeconds();
  const result: Measured = await runLoad(target, { connections: CONNECTIONS, seconds });
  if (server && cpuBefore !== undefined && result.requests > 0) {
    result.cpuUsPerRequest = ((server.cpuSeconds() - cpuBefore) * 1e6) / result.requests;
  }
  const cpu =
    result.cpuUsPerRequest === undefined ? "" : `  CPU ${result.cpuUsPerRequest.toFixed(1)} us/req`;
  log(
    `  ${name.padEnd(34)} ${fmt.rps(result.rps).padStart(10)}  p50 ${fmt.ms(result.p50Ms)}  p99 ${fmt.ms(result.p99Ms)}  errors ${result.errors}${cpu}`,
  );
  return result;
}

async function migrated(file: string): Promise<string> {
  const url = `file:${file}`;
  const client = createClient({ url, concurrency: 1 });
  await migrate(drizzleOf(client), { migrationsFolder: MIGRATIONS_FOLDER });
  client.close();
  return url;
}

async function idRange(databaseUrl: string): Promise<{ from: number; to: number; rows: number }> {
  const client = createClient({ url: databaseUrl, concurrency: 1 });
  const r = await client.execute("SELECT min(id), max(id), count(*) FROM votes");
  client.close();
  const row = r.rows[0];
  return { from: Number(row?.[0] ?? 1), to: Number(row?.[1] ?? 1), rows: Number(row?.[2] ?? 0) };
}

/** Stops a writer, then queues votes until `count` wait (the submit script, no HTTP). */
async function fillQueue(redis: Redis, d: Deployment, count: number): Promise<void> {
  const waiting = await redis.xlen(keysFor(d.prefix).stream);
  if (waiting >= count) return;
  const config = loadConfig({ ...d.env, NODE_OPTIONS: undefined });
  log(`  queueing ${fmt.int(count - waiting)} votes (writer stopped)`);
  await submitLoop(config, {
    count: count - waiting,
    onProgress: (n) => log(`    queued ${fmt.int(n)} / ${fmt.int(count - waiting)}`),
  });
}

interface DrainResult {
  votes: number;
  seconds: number;
  rate: number;
  writerPeakRssMb: number;
}

/** Starts a writer on a full queue; votes/s from its seeding until the stream is empty. */
async function drain(redis: Redis, d: Deployment, name: string): Promise<[DrainResult, Service]> {
  const stream = keysFor(d.prefix).stream;
  const votes = await redis.xlen(stream);
  const writer = startWriter(d, name);
  await writer.waitFor(seeded, "seeded", 60_000);
  const started = performance.now();
  let lastLog = started;
  for (;;) {
    const left = await redis.xlen(stream);
    if (left === 0) break;
    if (performance.now() - lastLog > 1000) {
      lastLog = performance.now();
      const done = votes - left;
      log(
        `    drained ${fmt.int(done)} / ${fmt.int(votes)}  (${fmt.rps(done / ((lastLog - started) / 1000))})`,
      );
    }
    await sleep(10);
  }
  const seconds = (performance.now() - started) / 1000;
  const result = { votes, seconds, rate: votes / seconds, writerPeakRssMb: writer.maxPeakMb() };
  log(
    `  drain ${name}: ${fmt.int(votes)} votes in ${seconds.toFixed(2)} s = ${fmt.rps(result.rate)}`,
  );
  return [result, writer];
}

interface LagResult {
  post: LoadResult;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  queueStart: number;
  queueMax: number;
  queueEnd: number;
  queueGrew: boolean;
  samples: number;
}

/** POST at full speed with the writer running, sampling the oldest unwritten vote's age. */
async function underLoad(
  redis: Redis,
  d: Deployment,
  base: string,
  batchSize: number,
): Promise<LagResult> {
  const stream = keysFor(d.prefix).stream;
  const lags: number[] = [];
  const lengths: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [[, first], [, length], [, time]] = (await redis
        .multi()
        .xrange(stream, "-", "+", "COUNT", 1)
        .xlen(stream)
        .time()
        .exec()) as [[null, [string, string[]][]], [null, number], [null, [string, string]]];
      const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      const fields = first[0]?.[1] ?? [];
      const at = fields.indexOf("created_at");
      lags.push(at >= 0 ? now - Number(fields[at + 1]) : 0);
      lengths.push(length);
      await sleep(100);
    }
  })();
  const progress = setInterval(
    () =>
      log(
        `    queue ${fmt.int(lengths.at(-1) ?? 0)}, oldest unwritten vote ${lags.at(-1) ?? 0} ms old`,
      ),
    5000,
  );
  const post = await load(
    "POST /votes (writer running)",
    { base, method: "POST", path: "/votes", bodies: BODIES },
    P.underLoad,
  );
  clearInterval(progress);
  sampling = false;
  await sampler;
  const sorted = [...lags].sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const quarter = Math.max(1, Math.floor(lengths.length / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const head = mean(lengths.slice(0, quarter));
  const tail = mean(lengths.slice(-quarter));
  const result: LagResult = {
    post,
    lagP50Ms: pct(50),
    lagP99Ms: pct(99),
    lagMaxMs: sorted.at(-1) ?? 0,
    queueStart: lengths[0] ?? 0,
    queueMax: Math.max(0, ...lengths),
    queueEnd: lengths.at(-1) ?? 0,
    // Growing: the last quarter holds well over the first quarter and over two batches.
    queueGrew: tail > 2 * Math.max(head, batchSize),
    samples: lags.length,
  };
  log(
    `  writer lag p50 ${result.lagP50Ms} ms, p99 ${result.lagP99Ms} ms, max ${result.lagMaxMs} ms; queue ${result.queueStart} → max ${result.queueMax} → ${result.queueEnd}${result.queueGrew ? " (GREW)" : ""}`,
  );
  return result;
}

/** Several runs of the same load as one: rates, latencies and CPU averaged, errors summed. */
function meanOf(runs: Measured[]): Measured {
  const avg = (pick: (r: Measured) => number) =>
    runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const cpu = runs.every((r) => r.cpuUsPerRequest !== undefined)
    ? { cpuUsPerRequest: avg((r) => r.cpuUsPerRequest ?? 0) }
    : {};
  return {
    ...cpu,
    tool: runs[0]?.tool ?? "wrk",
    requests: avg((r) => r.requests),
    seconds: avg((r) => r.seconds),
    rps: avg((r) => r.rps),
    p50Ms: avg((r) => r.p50Ms),
    p99Ms: avg((r) => r.p99Ms),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** A load to measure: its name, its target and, for CPU per request, the server's processes. */
type Measurement = [name: string, target: LoadTarget, server?: Service];

/**
 * Two loads measured in turn, twice each (first, second, first, second), each figure the mean of
 * its two runs: a noisy moment of the shared machine then weighs on both.
 */
async function alternating(first: Measurement, second: Measurement): Promise<[Measured, Measured]> {
  const runs: [Measured[], Measured[]] = [[], []];
  for (let round = 0; round < 2; round++) {
    runs[0].push(await load(first[0], first[1], P.seconds, first[2]));
    runs[1].push(await load(second[0], second[1], P.seconds, second[2]));
  }
  return [meanOf(runs[0]), meanOf(runs[1])];
}

async function waitDrained(redis: Redis, d: Deployment, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await redis.xlen(keysFor(d.prefix).stream)) > 0) {
    if (Date.now() > deadline) throw new Error("the queue did not drain");
    await sleep(50);
  }
}

async function setAof(redis: Redis, fsync: "no-aof" | "everysec" | "always"): Promise<void> {
  if (fsync === "no-aof") {
    await redis.config("SET", "appendonly", "no");
    return;
  }
  await redis.config("SET", "appendonly", "yes");
  await redis.config("SET", "appendfsync", fsync);
  for (;;) {
    const info = await redis.info("persistence");
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
    await sleep(50);
  }
}

async function main(): Promise<void> {
  log(
    `bench (${quick ? "quick" : "full"}): ${PROCESSES} API process(es), ${CONNECTIONS} connections, load by ${results.loadGenerator}`,
  );
  const runtime = process.env.BENCH_RUNTIME === "tsx" ? "tsx" : "built";
  log(
    runtime === "built"
      ? "building the service (npm run build, into node_modules/.cache)"
      : "running the service with tsx",
  );
  entries = await prepareEntries(runtime);
  results.runtime = runtime;
  await redisServer.start();
  const redis = redisServer.client();
  const main = deployment("bench", await migrated(join(workDir, "votes.db")));
  const batchSize = loadConfig(main.env).writer.batchSize;

  log("starting the writer, the API and the bare Hono server");
  let writer = startWriter(main);
  await writer.waitFor(seeded, "seeded");
  const api = await startApi(main, "api");
  const bare = await startApi(main, "bare", API_FLAGS, "bare");
  await waitHttp(`${api.base}/readyz`);

  log("HTTP: bare Hono route vs the service, alternating, twice each");
  const totalsPath = { method: "GET", path: "/votes" } as const;
  const [bareTotals, totals] = await alternating(
    ["bare GET /votes", { base: bare.base, ...totalsPath }, bare.service],
    ["GET /votes", { base: api.base, ...totalsPath }, api.service],
  );
  await writer.stop();
  const writerRss = [writer.maxPeakMb()];
  const postPath = { method: "POST", path: "/votes", bodies: BODIES } as const;
  const [barePost, post] = await alternating(
    ["bare POST /votes", { base: bare.base, ...postPath }, bare.service],
    ["POST /votes (writer stopped)", { base: api.base, ...postPath }, api.service],
  );

  log("Redis ceiling: the submit script in a tight loop, no HTTP");
  const redisSingle = await submitLoop(loadConfig(main.env), { seconds: P.ceilingSeconds / 2 });
  log(
    `  submit.lua, one call per vote: ${fmt.rps(redisSingle.rate)} (${redisSingle.errors} refused)`,
  );
  const redisCeiling = await submitLoop(loadConfig(main.env), {
    seconds: P.ceilingSeconds / 2,
    batched: true,
  });
  log(
    `  enqueueVote (batched, the API's path): ${fmt.rps(redisCeiling.rate)} (${redisCeiling.errors} refused)`,
  );
  await fillQueue(redis, main, P.drainVotes);

  log("SQLite ceiling: raw batched inserts through @libsql/client (WAL, synchronous=FULL)");
  const queued = await redis.xlen(keysFor(main.prefix).stream);
  const sqlite = await sqliteCeiling(queued, 1000);
  log(
    `  raw inserts: ${fmt.int(sqlite.rows)} rows in ${sqlite.seconds.toFixed(2)} s = ${fmt.rps(sqlite.rate)}`,
  );

  log("drain: the writer started on a full queue, empty database");
  const [drainSmall, drainWriter] = await drain(redis, main, "writer");
  writer = drainWriter;
  const small = await idRange(main.databaseUrl);

  log(`GET /votes/{id}: random recorded ids 1..${fmt.int(small.to)}, alternating, twice each`);
  const idsPath = { method: "GET", path: { idsFrom: small.from, idsTo: small.to } } as const;
  const [bareVote, vote] = await alternating(
    ["bare GET /votes/{id}", { base: bare.base, ...idsPath }, bare.service],
    ["GET /votes/{id}", { base: api.base, ...idsPath }, api.service],
  );
  await bare.service.stop();

  log(`writer under load: POST at full speed for ${P.underLoad} s with the writer running`);
  const lag = await underLoad(redis, main, api.base, batchSize);
  await waitDrained(redis, main);

  log("Redis durability: POST /votes with AOF appendfsync everysec vs always (writer running)");
  await setAof(redis, "everysec");
  const aofEverysec = await load("POST /votes, AOF everysec", {
    base: api.base,
    method: "POST",
    path: "/votes",
    bodies: BODIES,
  });
  await waitDrained(redis, main);
  await setAof(redis, "always");
  const aofAlways = await load("POST /votes, AOF always", {
    base: api.base,
    method: "POST",
    path: "/votes",
    bodies: BODIES,
  });
  await waitDrained(redis, main);
  await setAof(redis, "no-aof");

  log(
    `memory reducer: two fresh APIs, idle ${P.idle} s after start, with and without --no-memory-reducer`,
  );
  const [withFlag, withoutFlag] = await Promise.all([
    startApi(main, "api-flag", API_FLAGS),
    startApi(main, "api-noflag", REDUCER_ON_FLAGS),
  ]);
  await sleep(P.idle * 1000);
  // Alternating, twice each, so that a noisy moment does not favour one of them.
  const [reducedOff, reducedOn] = await alternating(
    ["GET /votes --no-memory-reducer", { base: withFlag.base, ...totalsPath }],
    ["GET /votes (default V8 flags)", { base: withoutFlag.base, ...totalsPath }],
  );
  await Promise.all([withFlag.service.stop(), withoutFlag.service.stop()]);
  await writer.stop();
  writerRss.push(writer.maxPeakMb(), drainSmall.writerPeakRssMb);

  log(
    `growth: the same drain and GET /votes/{id} on a database already holding ${fmt.int(P.bigRows)} votes`,
  );
  const bigFile = copyOf(await bigDatabase(P.bigRows, log), workDir);
  const big = deployment("bench-big", `file:${bigFile}`);
  const bigSeed = startWriter(big, "writer-big-seed");
  await bigSeed.waitFor(seeded, "seeded", 60_000);
  await bigSeed.stop();
  await fillQueue(redis, big, drainSmall.votes);
  const [drainBig, bigWriter] = await drain(redis, big, "writer-big");
  const bigApi = await startApi(big, "api-big");
  // p99 is sensitive to the moment: both databases measured here, alternating, twice each.
  const [voteBig, voteSmall] = await alternating(
    [
      `GET /votes/{id} at ${fmt.int(P.bigRows)} rows`,
      { base: bigApi.base, method: "GET", path: { idsFrom: 1, idsTo: P.bigRows } },
    ],
    [`GET /votes/{id} at ${fmt.int(small.rows)} rows`, { base: api.base, ...idsPath }],
  );
  await bigWriter.stop();
  writerRss.push(bigWriter.maxPeakMb(), drainBig.writerPeakRssMb);

  const apiRss = Math.max(api.service.maxPeakMb(), bigApi.service.maxPeakMb());
  const apiProcesses = [...api.service.peaks.values()].map((mb) => Math.round(mb));
  const writerPeak = Math.max(...writerRss);

  Object.assign(results, {
    finishedAt: new Date().toISOString(),
    http: { bareTotals, totals, barePost, post, bareVote, vote },
    redisCeiling,
    redisSingleCallCeiling: redisSingle,
    sqliteCeiling: sqlite,
    drain: { empty: drainSmall, big: { ...drainBig, rowsBefore: P.bigRows } },
    getVoteBig: voteBig,
    getVoteSmall: voteSmall,
    underLoad: lag,
    aof: { everysec: aofEverysec, always: aofAlways },
    memoryReducer: { idleSeconds: P.idle, flagOn: reducedOff, flagOff: reducedOn },
    rss: { apiMaxPerProcessMb: apiRss, apiProcessesMb: apiProcesses, writerMaxMb: writerPeak },
  });

  // CPU per request of the service's processes against the bare server's: bare ÷ service, so
  // that it reads like the throughput ratio (1× would be no cost over the bare route).
  const cpuRow = (ours: Measured, ceiling: Measured): Row => ({
    figure: "  CPU per request (API processes)",
    value: fmt.us(ours.cpuUsPerRequest),
    ceiling: `bare ${fmt.us(ceiling.cpuUsPerRequest)}`,
    ...(ours.cpuUsPerRequest && ceiling.cpuUsPerRequest
      ? { ratio: ceiling.cpuUsPerRequest / ours.cpuUsPerRequest }
      : {}),
  });
  const rows: Row[] = [
    {
      figure: "POST /votes (writer stopped)",
      value: fmt.rps(post.rps),
      ceiling: `bare ${fmt.rps(barePost.rps)}`,
      ratio: post.rps / barePost.rps,
      target: "≥0.55× (aim 0.7×), >34,000/s",
    },
    {
      figure: "  p50 / p99 / errors",
      value: `${fmt.ms(post.p50Ms)} / ${fmt.ms(post.p99Ms)} / ${post.errors}`,
      ceiling: `bare p99 ${fmt.ms(barePost.p99Ms)}`,
      target: "p99 ≤ 10 ms",
    },
    cpuRow(post, barePost),
    {
      figure: "  vs Redis ceiling (enqueueVote loop)",
      value: fmt.rps(post.rps),
      ceiling: fmt.rps(redisCeiling.rate),
      ratio: post.rps / redisCeiling.rate,
    },
    {
      figure: "  Redis: submit.lua, one call per vote",
      value: fmt.rps(redisSingle.rate),
      ceiling: `batched ${fmt.rps(redisCeiling.rate)}`,
      ratio: redisSingle.rate / redisCeiling.rate,
    },
    {
      figure: "GET /votes",
      value: fmt.rps(totals.rps),
      ceiling: `bare ${fmt.rps(bareTotals.rps)}`,
      ratio: totals.rps / bareTotals.rps,
      target: "≥0.6×",
    },
    {
      figure: "  p50 / p99 / errors",
      value: `${fmt.ms(totals.p50Ms)} / ${fmt.ms(totals.p99Ms)} / ${totals.errors}`,
      ceiling: `bare p99 ${fmt.ms(bareTotals.p99Ms)}`,
    },
    cpuRow(totals, bareTotals),
    {
      figure: "GET /votes/{id}",
      value: fmt.rps(vote.rps),
      ceiling: `bare ${fmt.rps(bareVote.rps)}`,
      ratio: vote.rps / bareVote.rps,
      target: "≥0.5×",
    },
    {
      figure: "  p50 / p99 / errors",
      value: `${fmt.ms(vote.p50Ms)} / ${fmt.ms(vote.p99Ms)} / ${vote.errors}`,
      ceiling: `bare p99 ${fmt.ms(bareVote.p99Ms)}`,
    },
    cpuRow(vote, bareVote),
    {
      figure: "drain (empty db)",
      value: fmt.rps(drainSmall.rate),
      ceiling: `raw SQLite ${fmt.rps(sqlite.rate)}`,
      ratio: drainSmall.rate / sqlite.rate,
      target: "≥100,000/s and ≥0.25×",
    },
    {
      figure: `POST /votes, writer running ${P.underLoad} s`,
      value: fmt.rps(lag.post.rps),
      ceiling: `stopped ${fmt.rps(post.rps)}`,
      ratio: lag.post.rps / post.rps,
    },
    {
      figure: "  writer lag p50 / p99 / max",
      value: `${lag.lagP50Ms} / ${lag.lagP99Ms} / ${lag.lagMaxMs} ms`,
      target: "p99 ≤ 1000 ms",
    },
    {
      figure: "  queue start → max → end",
      value: `${fmt.int(lag.queueStart)} → ${fmt.int(lag.queueMax)} → ${fmt.int(lag.queueEnd)}`,
      ceiling: lag.queueGrew ? "GREW" : "did not grow",
      target: "does not grow",
    },
    {
      figure: `drain at ${fmt.int(P.bigRows)} rows`,
      value: fmt.rps(drainBig.rate),
      ceiling: `empty ${fmt.rps(drainSmall.rate)}`,
      ratio: drainBig.rate / drainSmall.rate,
      target: "≥0.8×",
    },
    {
      figure: `GET /votes/{id} p99 at ${fmt.int(P.bigRows)} rows`,
      value: fmt.ms(voteBig.p99Ms),
      ceiling: `${fmt.int(small.rows)} rows ${fmt.ms(voteSmall.p99Ms)}`,
      ratio: voteBig.p99Ms / voteSmall.p99Ms,
      target: "≤1.2×",
    },
    {
      figure: `  req/s at ${fmt.int(P.bigRows)} rows`,
      value: fmt.rps(voteBig.rps),
      ceiling: fmt.rps(voteSmall.rps),
      ratio: voteBig.rps / voteSmall.rps,
    },
    {
      figure: "POST /votes, AOF appendfsync always",
      value: fmt.rps(aofAlways.rps),
      ceiling: `everysec ${fmt.rps(aofEverysec.rps)}`,
      ratio: aofAlways.rps / aofEverysec.rps,
    },
    {
      figure: "  p99 always / everysec",
      value: `${fmt.ms(aofAlways.p99Ms)} / ${fmt.ms(aofEverysec.p99Ms)}`,
    },
    {
      figure: `GET /votes, default V8 flags, idle ${P.idle} s`,
      value: fmt.rps(reducedOn.rps),
      ceiling: `--no-memory-reducer ${fmt.rps(reducedOff.rps)}`,
      ratio: reducedOn.rps / reducedOff.rps,
    },
    {
      figure: "API peak RSS, per process",
      value: fmt.mb(apiRss),
      ceiling: `${apiProcesses.join(", ")} MB`,
      target: "≤150 MB",
    },
    { figure: "writer peak RSS", value: fmt.mb(writerPeak), target: "≤200 MB" },
  ];
  const table = renderTable(rows);
  results.table = table;
  const dir = join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `${quick ? "quick" : "full"}-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.json`,
  );
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${table}\n\nraw results: ${file}\n`);
  redis.disconnect();
}

async function cleanup(): Promise<void> {
  await Promise.all(services.map((s) => s.stop("SIGTERM", 5000).catch(() => {})));
  await redisServer.destroy();
  entries?.remove();
  rmSync(workDir, { recursive: true, force: true });
}

process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
try {
  await main();
  await cleanup();
} catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  await cleanup();
  process.exit(1);
}

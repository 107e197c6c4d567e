/**
 * `npm run cold-start`: how long a fresh container takes to answer. Builds the bundles, installs
 * them as a host would (test/deploy/cleanRoom.ts), then for each bundle starts a new `node`
 * several times and measures, inside it, `import()` of the bundle, the first response (which
 * opens the Redis and libSQL connections) and a second, warm one. Uses a private redis-server,
 * a migrated SQLite file and an in-process writer, so every call answers as in production.
 *
 *   npm run cold-start [-- --runs 7]
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { prepareCleanRoom, removeRoom } from "../test/deploy/cleanRoom.js";
import { migratedDatabase, startWriter, testConfig } from "../test/support/fixtures.js";
import { RedisServer } from "../test/support/redisServer.js";
import type { Bundle } from "./build-functions.js";

const run = promisify(execFile);

// Runs in the fresh process: times import(), the first call and a second one.
const MEASURE = `
const [bundle, host, name] = process.argv.slice(2);
const url = "https://votes.example.com" + (name === "getVote" ? "/votes/1" : "/votes");
const request = () => name === "submitVote"
  ? new Request(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"option":"cold"}' })
  : new Request(url);
const event = () => {
  const r = request();
  const path = new URL(r.url).pathname;
  return {
    version: "2.0", routeKey: "$default", rawPath: path, rawQueryString: "",
    headers: { host: "votes.example.com", "content-type": "application/json" },
    requestContext: { domainName: "votes.example.com", http: { method: r.method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.7" }, stage: "$default" },
    ...(r.method === "POST" ? { body: '{"option":"cold"}', isBase64Encoded: false } : {}),
    isBase64Encoded: false,
  };
};
const t0 = performance.now();
const mod = await import(bundle);
const t1 = performance.now();
const call = async () => {
  if (host === "aws-lambda") return (await mod.handler(event(), { getRemainingTimeInMillis: () => 10000 })).statusCode;
  const response = await (host === "vercel" ? mod.default.fetch(request()) : mod.default(request()));
  await response.text();
  return response.status;
};
const status = await call();
const t2 = performance.now();
await call();
const t3 = performance.now();
process.stdout.write(JSON.stringify({ status, importMs: t1 - t0, firstMs: t2 - t0, warmMs: t3 - t2 }));
process.exit(0);
`;

interface Sample {
  status: number;
  importMs: number;
  firstMs: number;
  warmMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const runsFlag = process.argv.indexOf("--runs");
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

const redis = await new RedisServer().start();
const config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
const writer = await startWriter(config);
const room = await prepareCleanRoom();
const measure = join(room.room, "measure.mjs");
writeFileSync(measure, MEASURE);
const env = {
  PATH: process.env.PATH ?? "",
  REDIS_URL: config.redis.url,
  REDIS_PREFIX: config.redis.prefix,
  DATABASE_URL: config.database.url,
  LOG_LEVEL: "silent",
};

try {
  // Let the writer seed the queue before the first submitVote.
  await new Promise((r) => setTimeout(r, 300));
  const rows: string[] = [];
  rows.push(
    `${"bundle".padEnd(24)} ${"KB".padStart(6)} ${"import ms".padStart(10)} ${"first response ms".padStart(18)} ${"(min)".padStart(6)} ${"warm ms".padStart(8)}  status`,
  );
  for (const b of room.bundles as Bundle[]) {
    const samples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      const { stdout } = await run(process.execPath, [measure, room.path(b), b.host, b.name], {
        cwd: room.room,
        env,
      });
      samples.push(JSON.parse(stdout) as Sample);
    }
    const statuses = [...new Set(samples.map((s) => s.status))].join(",");
    rows.push(
      `${`${b.host}/${b.name}`.padEnd(24)} ${(b.bytes / 1024).toFixed(0).padStart(6)} ${median(
        samples.map((s) => s.importMs),
      )
        .toFixed(1)
        .padStart(10)} ${median(samples.map((s) => s.firstMs))
        .toFixed(1)
        .padStart(18)} ${Math.min(...samples.map((s) => s.firstMs))
        .toFixed(1)
        .padStart(6)} ${median(samples.map((s) => s.warmMs))
        .toFixed(2)
        .padStart(8)}  ${statuses}`,
    );
  }
  process.stdout.write(`${rows.join("\n")}\n`);
  process.stdout.write(
    `median of ${runs} fresh \`node\` processes each; "first response" is from import() to the first answer (includes connecting to Redis and opening SQLite)\n`,
  );
} finally {
  await writer.stop();
  await redis.destroy();
  removeRoom(room.dir);
}

/**
 * PM2 processes for `npm run up` (the original's supervisor setup): Redis (only for a local
 * REDIS_URL, unless VOTES_PM2_REDIS=0, which `npm run up` sets when a Redis already answers
 * there), the API and the writer. Each is restarted on crash; logs go to logs/<name>.log; Redis
 * keeps its append-only file in data/redis. Every path is under VOTES_RUN_DIR (default: this
 * folder), and `npm run up` points PM2_HOME at its .pm2, so a user's own PM2 is never touched.
 * The API and the writer run from TypeScript with tsx, or from dist/ when VOTES_PM2_BUILT=1.
 */
const { join, resolve } = require("node:path");

const root = __dirname;
const runDir = resolve(process.env.VOTES_RUN_DIR || root);
const logs = join(runDir, "logs");
const built = process.env.VOTES_PM2_BUILT === "1";

const redisUrl = new URL(process.env.REDIS_URL || "redis://127.0.0.1:6379");
const redisHost = redisUrl.hostname.replace(/^\[|\]$/g, "");
const redisLocal = ["127.0.0.1", "localhost", "::1"].includes(redisHost);
const startRedis =
  redisLocal && redisUrl.protocol === "redis:" && process.env.VOTES_PM2_REDIS !== "0";

const common = {
  cwd: root,
  autorestart: true,
  // A process that keeps dying within 5 s of its start is given up on after 10 tries.
  min_uptime: "5s",
  max_restarts: 10,
  exp_backoff_restart_delay: 200,
  merge_logs: true,
};

const node = (name, source, nodeArgs = []) => ({
  ...common,
  name,
  // Node itself as the binary, not PM2's fork container: one process whose pid PM2 shows and
  // signals, and whose argv[1] is the entry file (local.ts serves only when it is the main module).
  script: process.execPath,
  interpreter: "none",
  args: [
    ...nodeArgs,
    ...(built ? [join("dist", source.replace(/\.ts$/, ".js"))] : ["--import", "tsx", source]),
  ],
  out_file: join(logs, `${name}.log`),
  error_file: join(logs, `${name}.log`),
  // SIGINT, then SIGKILL after this long: time to finish the batch in hand and release the lease.
  kill_timeout: 10_000,
});

const apps = [];
if (startRedis) {
  apps.push({
    ...common,
    name: "redis",
    script: "redis-server",
    interpreter: "none",
    args: [
      "--port",
      redisUrl.port || "6379",
      "--bind",
      redisHost,
      "--dir",
      join(runDir, "data", "redis"),
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      ...(redisUrl.password ? ["--requirepass", decodeURIComponent(redisUrl.password)] : []),
    ],
    out_file: join(logs, "redis.log"),
    error_file: join(logs, "redis.log"),
    kill_timeout: 10_000,
  });
}
// The API's V8 flags: lib/nodeFlags.ts says why (a test keeps this list equal to that one).
apps.push(
  node("api", "local.ts", [
    "--max-semi-space-size=4",
    "--no-memory-reducer",
    "--heap-growing-percent=100",
  ]),
);
apps.push(node("writer", "writer/main.ts"));

module.exports = { apps };

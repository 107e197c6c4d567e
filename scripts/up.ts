/**
 * `npm run up [-- --built]` (the original's `make start` under supervisor): applies pending
 * migrations, then starts in the background under this checkout's PM2 daemon: Redis (when
 * REDIS_URL is local and nothing answers there), the API and the writer, each restarted on
 * crash, logs in logs/. Waits until the API is ready. With `--built`, runs dist/ (npm run build).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfigOrExit } from "../lib/config.js";
import { CliError, runCli } from "./cli.js";
import { localRedisTarget, portFree, redisAnswers } from "./localRedis.js";
import {
  call,
  daemonPid,
  ECOSYSTEM,
  listServices,
  PROJECT_ROOT,
  runPaths,
  withPm2,
} from "./services.js";

const READY_TIMEOUT_MS = 30_000;
const config = loadConfigOrExit();
const paths = runPaths();
const built = process.argv.includes("--built");

await runCli(async () => {
  if (daemonPid(paths)) {
    const running = (await withPm2(paths, listServices)).filter((s) => s.status === "online");
    if (running.length > 0) {
      console.log(
        `already running: ${running.map((s) => `${s.name} (pid ${s.pid})`).join(", ")}; see npm run status, stop with npm run down`,
      );
      return;
    }
  }
  const { host, port } = config;
  if (!(await portFree(host, port))) {
    throw new CliError(
      `PORT ${port} on ${host} is already in use: stop what listens there or set PORT`,
    );
  }
  const metricsPort = config.writer.metricsPort;
  if (metricsPort !== 0 && !(await portFree(host, metricsPort))) {
    throw new CliError(
      `WRITER_METRICS_PORT ${metricsPort} on ${host} is already in use: free it, or set another port (0: no writer metrics)`,
    );
  }
  const redis = localRedisTarget(config.redis.url);
  let startRedis = false;
  if (redis && !(await redisAnswers(config.redis.url))) {
    if (!(await portFree(redis.host, redis.port))) {
      throw new CliError(
        `REDIS_URL: ${redis.host}:${redis.port} is taken by something that does not answer as Redis: free the port or change REDIS_URL`,
      );
    }
    startRedis = true;
  }
  if (built && !existsSync(join(PROJECT_ROOT, "dist", "local.js"))) {
    throw new CliError("no build in dist/: run npm run build first, or drop --built");
  }

  const migrate = spawnSync(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (migrate.status !== 0) throw new CliError("not started: the migrations failed (see above)");

  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.redisData, { recursive: true });
  // Read by ecosystem.config.cjs when PM2 loads it in this process.
  process.env.VOTES_RUN_DIR = paths.dir;
  process.env.VOTES_PM2_REDIS = startRedis ? "1" : "0";
  process.env.VOTES_PM2_BUILT = built ? "1" : "0";
  const started = await withPm2(paths, async (pm2) => {
    // Left-overs of an earlier run that crashed for good: start afresh.
    if ((await listServices(pm2)).length > 0) await call((cb) => pm2.delete("all", cb));
    await call((cb) => pm2.start(ECOSYSTEM, cb));
    return listServices(pm2);
  });
  for (const s of started) console.log(`started ${s.name} (pid ${s.pid})`);
  if (!startRedis) console.log(`using the Redis at ${redactedRedis()} (not managed here)`);

  const ready = await waitReady();
  const api = `http://${probeHost(host)}:${port}`;
  if (ready !== true) {
    throw new CliError(
      `started, but the API is not ready after ${READY_TIMEOUT_MS / 1000} s: ${ready}; see npm run logs`,
    );
  }
  const metrics =
    metricsPort === 0 ? "" : `, writer metrics http://${probeHost(host)}:${metricsPort}/metrics`;
  console.log(
    `ready: API ${api}${metrics}; logs in ${paths.logs} (npm run logs), stop with npm run down`,
  );
});
process.exit();

function probeHost(host: string): string {
  return host === "0.0.0.0" || host === "::"
    ? "127.0.0.1"
    : host.includes(":")
      ? `[${host}]`
      : host;
}

function redactedRedis(): string {
  const url = new URL(config.redis.url);
  if (url.password) url.password = "***";
  return url.toString();
}

/** Resolves true once GET /readyz answers 200, else the last reason it gave. */
async function waitReady(): Promise<true | string> {
  const url = `http://${probeHost(config.host)}:${config.port}/readyz`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let why = "the API does not answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return true;
      why = ((await response.json()) as { detail?: string }).detail ?? `HTTP ${response.status}`;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return why;
}

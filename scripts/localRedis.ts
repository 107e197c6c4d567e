/**
 * "Start a private redis-server when REDIS_URL is local and nothing answers there": the checks
 * `npm run up` makes before PM2 starts Redis, and `startPrivateRedis` for a foreground runner
 * (`npm start`). Redis keeps an append-only file in the given data dir (default data/redis).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { runPaths } from "./services.js";

export interface LocalRedis {
  host: string;
  port: number;
  password: string | undefined;
}

/** Host and port of a plain-TCP REDIS_URL on this machine, else undefined (remote or TLS). */
export function localRedisTarget(url: string): LocalRedis | undefined {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (parsed.protocol !== "redis:" || !["127.0.0.1", "localhost", "::1"].includes(host)) {
    return undefined;
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  return { host, port: Number(parsed.port || 6379), password };
}

/** True when a Redis at `url` answers PING within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** True when nothing listens on `host:port`. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The redis-server arguments for a local target: AOF on, data in `dataDir`. */
export function redisServerArgs(target: LocalRedis, dataDir: string): string[] {
  return [
    "--port",
    String(target.port),
    "--bind",
    target.host,
    "--dir",
    dataDir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    ...(target.password ? ["--requirepass", target.password] : []),
  ];
}

/**
 * For a foreground runner: when `url` is local and nothing answers, starts redis-server there
 * (output piped by default, for the caller to label) and resolves once it answers; resolves undefined when there is nothing to
 * start. Throws a one-line Error when the port is taken by something else.
 */
export async function startLocalRedisIfNeeded(
  url: string,
  dataDir: string = runPaths().redisData,
  stdio: "pipe" | "inherit" | "ignore" = "pipe",
): Promise<ChildProcess | undefined> {
  const target = localRedisTarget(url);
  if (!target || (await redisAnswers(url))) return undefined;
  if (!(await portFree(target.host, target.port))) {
    throw new Error(
      `REDIS_URL ${target.host}:${target.port} is taken by something that does not answer as Redis: free the port or change REDIS_URL`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const child = spawn("redis-server", redisServerArgs(target, dataDir), { stdio });
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error) => reject(new Error(`cannot run redis-server: ${error.message}`)));
    child.once("exit", (code) => reject(new Error(`redis-server exited with code ${code}`)));
  });
  const deadline = Date.now() + 10_000;
  while (!(await Promise.race([redisAnswers(url), failed]))) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not answer on ${target.host}:${target.port} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  failed.catch(() => {});
  return child;
}

/**
 * For local use: when REDIS_URL points at this machine and nothing answers there, start a
 * private `redis-server` with AOF on and its data under the project (data/redis).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { Socket } from "node:net";
import { resolve } from "node:path";

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

export interface LocalRedisTarget {
  host: string;
  port: number;
}

/** The host and port of REDIS_URL when it is a plain local redis:// URL, else undefined. */
export function localRedisTarget(url: string): LocalRedisTarget | undefined {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" || !LOCAL_HOSTS.has(parsed.hostname)) return undefined;
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port || 6379) };
}

/** True when something accepts TCP connections at host:port within `timeoutMs`. */
export function answers(target: LocalRedisTarget, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.connect(target.port, target.host, () => finish(true));
  });
}

/** The redis-server arguments for a private, durable (AOF everysec) local server. */
export function redisServerArgs(target: LocalRedisTarget, dataDir: string): string[] {
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
    "--save",
    "",
  ];
}

export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * Starts redis-server in the foreground as a child (stopped with its parent), or returns
 * undefined when Redis is remote or already answering.
 */
export async function startLocalRedisIfNeeded(
  url: string,
  dataDir = resolve("data/redis"),
): Promise<ChildProcess | undefined> {
  const target = localRedisTarget(url);
  if (!target || (await answers(target))) return undefined;
  if (!hasRedisServer()) {
    throw new Error(
      `nothing answers at ${url} and redis-server is not installed: install Redis 6.2+ (e.g. \`sudo apt-get install redis-server\`) or set REDIS_URL`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  // Its own process group: Ctrl-C reaches the API and the writer first; Redis is stopped last.
  const child = spawn("redis-server", redisServerArgs(target, dataDir), {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const deadline = Date.now() + 10_000;
  while (!(await answers(target))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (Date.now() > deadline)
      throw new Error(`redis-server did not answer on port ${target.port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

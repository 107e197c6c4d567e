/**
 * `npm start`: everything for local use, in the foreground, like the original's `make start`:
 * migrate, start a private Redis when none answers locally, then the API and the writer, with
 * labelled logs. Ctrl-C stops it all (the writer finishes its batch and releases its lease).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { loadConfigOrExit } from "../lib/config.js";
import { API_NODE_FLAGS } from "../lib/nodeFlags.js";
import { startLocalRedisIfNeeded } from "./localRedis.js";

const config = loadConfigOrExit();
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function label(name: string, child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      process.stdout.write(`[${name.padEnd(6)}] ${line}\n`);
    });
  }
}

function run(name: string, args: string[], nodeFlags: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  label(name, child);
  children.push({ name, child });
  child.on("exit", (code, signal) => {
    if (stopping) return;
    process.stdout.write(
      `[${name.padEnd(6)}] exited (${signal ?? `code ${code}`}); stopping everything\n`,
    );
    void stop(code ?? 1);
  });
  return child;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function stop(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  // The API and the writer first (the writer finishes its batch), Redis last.
  const apps = children.filter((c) => c.name !== "redis");
  for (const { child } of apps) child.kill("SIGTERM");
  await Promise.all(apps.map(({ child }) => waitExit(child)));
  for (const { child } of children.filter((c) => c.name === "redis")) {
    child.kill("SIGTERM");
    await waitExit(child);
  }
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const migrate = spawn(process.execPath, ["--import", "tsx", "scripts/db-migrate.ts"], {
  stdio: ["ignore", "pipe", "pipe"],
});
label("db", migrate);
const migrated = await new Promise<number>((resolve) => migrate.on("exit", (c) => resolve(c ?? 1)));
if (migrated !== 0) process.exit(migrated);

try {
  const redis = await startLocalRedisIfNeeded(config.redis.url);
  if (redis) {
    label("redis", redis);
    children.push({ name: "redis", child: redis });
    process.stdout.write(`[redis ] started a private redis-server (AOF on, data in data/redis)\n`);
  }
} catch (error) {
  process.stderr.write(`cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}

run("writer", ["writer/main.ts"]);
run("api", ["local.ts"], API_NODE_FLAGS);
process.stdout.write(
  `[start ] API on http://${config.host}:${config.port} — try: curl -X POST http://${config.host}:${config.port}/votes -H 'Content-Type: application/json' -d '{"option":"option1"}'\n`,
);

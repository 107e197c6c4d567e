/**
 * Shared by `npm run up/down/status/logs`: where this checkout keeps its PM2 home, logs and Redis
 * data (all under VOTES_RUN_DIR, default the project folder), and a client of the project's own
 * PM2 daemon, never the user's global one.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const ECOSYSTEM = join(PROJECT_ROOT, "ecosystem.config.cjs");
export const SERVICE_NAMES = ["redis", "api", "writer"] as const;

export interface RunPaths {
  dir: string;
  pm2Home: string;
  logs: string;
  redisData: string;
}

export function runPaths(env: NodeJS.ProcessEnv = process.env): RunPaths {
  const dir = resolve(env.VOTES_RUN_DIR || PROJECT_ROOT);
  return {
    dir,
    pm2Home: join(dir, ".pm2"),
    logs: join(dir, "logs"),
    redisData: join(dir, "data", "redis"),
  };
}

/** The pid of this checkout's PM2 daemon, if one is alive. */
export function daemonPid(paths: RunPaths): number | undefined {
  const file = join(paths.pm2Home, "pm2.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

export interface ServiceState {
  name: string;
  status: string;
  pid: number;
  uptimeMs: number;
  restarts: number;
}

interface ProcessDescription {
  name?: string;
  pid?: number;
  pm2_env?: { status?: string; pm_uptime?: number; restart_time?: number };
}

type Callback<T> = (error: Error | null, result: T) => void;

/** The slice of PM2's programmatic API these scripts use. */
export interface Pm2 {
  connect(callback: Callback<unknown>): void;
  start(config: string, callback: Callback<unknown>): void;
  list(callback: Callback<ProcessDescription[]>): void;
  delete(name: string, callback: Callback<unknown>): void;
  killDaemon(callback: Callback<unknown>): void;
  disconnect(): void;
}

/** Calls a PM2 method as a promise. */
export function call<T>(run: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Connects to (or spawns) the daemon of this checkout; `work` runs, then it disconnects. */
export async function withPm2<T>(paths: RunPaths, work: (pm2: Pm2) => Promise<T>): Promise<T> {
  // PM2 reads its home and verbosity from the environment when it loads.
  process.env.PM2_HOME = paths.pm2Home;
  process.env.PM2_SILENT = "true";
  const require = createRequire(import.meta.url);
  const { custom } = require("pm2") as { custom: new (options: object) => Pm2 };
  const pm2 = new custom({ pm2_home: paths.pm2Home });
  await call((cb) => pm2.connect(cb));
  try {
    return await work(pm2);
  } finally {
    pm2.disconnect();
  }
}

export async function listServices(pm2: Pm2): Promise<ServiceState[]> {
  const list = await call<ProcessDescription[]>((cb) => pm2.list(cb));
  const now = Date.now();
  return list.map((p) => {
    const status = p.pm2_env?.status ?? "unknown";
    return {
      name: p.name ?? "?",
      status,
      pid: p.pid ?? 0,
      uptimeMs: status === "online" && p.pm2_env?.pm_uptime ? now - p.pm2_env.pm_uptime : 0,
      restarts: p.pm2_env?.restart_time ?? 0,
    };
  });
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

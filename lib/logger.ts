/**
 * Structured logs (pino): JSON lines by default, readable lines with `LOG_FORMAT=pretty`.
 * Quiet by default: `info` logs only lifecycle events (start, lease, re-seed, stop), never a
 * line per request or per batch.
 */
import { type Logger, pino } from "pino";
import type { Config } from "./config.js";

export type { Logger };

export function createLogger(log: Config["log"], name: string): Logger {
  return pino({
    name,
    level: log.level,
    base: { service: name },
    ...(log.format === "pretty"
      ? {
          transport: {
            target: "pino-pretty",
            options: { colorize: true, ignore: "pid,hostname,service" },
          },
        }
      : {}),
  });
}

/**
 * Configuration: every environment variable the service reads, parsed once with zod at an entry
 * point and passed down. Handlers never read `process.env` themselves.
 */
import { readFileSync } from "node:fs";
import * as z from "zod";

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const redisUrl = z
  .string()
  .default("redis://127.0.0.1:6379")
  .refine((value) => /^rediss?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: "must be a redis:// or rediss:// URL",
  });

const databaseUrl = z
  .string()
  .default("file:data/votes.db")
  .refine((value) => /^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(value), {
    message: "must be a libSQL URL: file:path, libsql://, https:// or ws://",
  });

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  REDIS_URL: redisUrl,
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    .default("votes"),
  REDIS_TIMEOUT_MS: positiveInt(1000),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  DATABASE_URL: databaseUrl,
  DATABASE_AUTH_TOKEN: z.string().min(1).optional(),
  VOTE_OPTIONS: z.string().optional(),
  MAX_QUEUE_LENGTH: positiveInt(1_000_000),
  IDEMPOTENCY_TTL_SECONDS: positiveInt(86_400),
  WRITER_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  WRITER_BLOCK_MS: positiveInt(1000),
  WRITER_LEASE_MS: z.coerce.number().int().min(500).default(5000),
  WRITER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9091),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).default("json"),
});

export type Env = z.input<typeof schema>;

/** The parsed, typed configuration. */
export interface Config {
  port: number;
  host: string;
  redis: {
    url: string;
    prefix: string;
    timeoutMs: number;
    /** PEM of a private CA to trust for `rediss://` (from `REDIS_TLS_CA_FILE`). */
    tlsCa?: string | undefined;
  };
  database: { url: string; authToken: string | undefined };
  voteOptions: ReadonlySet<string> | undefined;
  maxQueueLength: number;
  idempotencyTtlSeconds: number;
  writer: { batchSize: number; blockMs: number; leaseMs: number; metricsPort: number };
  webConcurrency: number;
  log: { level: string; format: "json" | "pretty" };
}

/** Bad configuration: its message is one line naming the variable and what is wrong. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment into a {@link Config}, or throws a {@link ConfigError}. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "unset", as in most process managers.
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in schema.shape && value !== ""),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "configuration");
    const got = env[key] === undefined ? "" : ` (got ${JSON.stringify(env[key])})`;
    throw new ConfigError(`${key} ${describe(issue)}${got}`);
  }
  const e = parsed.data;
  const options = e.VOTE_OPTIONS?.split(",")
    .map((o) => o.trim().normalize("NFC"))
    .filter((o) => o.length > 0);
  if (e.VOTE_OPTIONS !== undefined && options?.length === 0) {
    throw new ConfigError("VOTE_OPTIONS must list at least one option, comma-separated");
  }
  return {
    port: e.PORT,
    host: e.HOST,
    redis: {
      url: e.REDIS_URL,
      prefix: e.REDIS_PREFIX,
      timeoutMs: e.REDIS_TIMEOUT_MS,
      tlsCa: e.REDIS_TLS_CA_FILE === undefined ? undefined : readCa(e.REDIS_TLS_CA_FILE),
    },
    database: { url: e.DATABASE_URL, authToken: e.DATABASE_AUTH_TOKEN },
    voteOptions: options ? new Set(options) : undefined,
    maxQueueLength: e.MAX_QUEUE_LENGTH,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    writer: {
      batchSize: e.WRITER_BATCH_SIZE,
      blockMs: e.WRITER_BLOCK_MS,
      leaseMs: e.WRITER_LEASE_MS,
      metricsPort: e.WRITER_METRICS_PORT,
    },
    webConcurrency: e.WEB_CONCURRENCY,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  };
}

/** Reads the CA bundle named by `REDIS_TLS_CA_FILE`; an unreadable file is a config error. */
function readCa(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`REDIS_TLS_CA_FILE cannot be read: ${(error as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(
      `REDIS_TLS_CA_FILE is not a PEM certificate file (got ${JSON.stringify(path)})`,
    );
  }
  return pem;
}

function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "is invalid";
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int" ? "must be a whole number" : `must be a ${issue.expected}`;
    case "too_small":
      return `must be ${issue.inclusive === false ? "greater than" : "at least"} ${String(issue.minimum)}`;
    case "too_big":
      return `must be ${issue.inclusive === false ? "less than" : "at most"} ${String(issue.maximum)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}`;
    default:
      return issue.message;
  }
}

/**
 * For entry points: parse the configuration, or print the one-line reason and exit 1.
 */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

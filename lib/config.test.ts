import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("has the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe("127.0.0.1");
    expect(config.redis.url).toBe("redis://127.0.0.1:6379");
    expect(config.redis.prefix).toBe("votes");
    expect(config.database.url).toBe("file:data/votes.db");
    expect(config.maxQueueLength).toBe(1_000_000);
    expect(config.voteOptions).toBeUndefined();
  });

  it("parses VOTE_OPTIONS into a normalised set", () => {
    expect([...(loadConfig({ VOTE_OPTIONS: " a , b,cafe\u0301 " }).voteOptions ?? [])]).toEqual([
      "a",
      "b",
      "café",
    ]);
  });

  it.each([
    [{ MAX_QUEUE_LENGTH: "-1" }, /^MAX_QUEUE_LENGTH must be greater than 0 \(got "-1"\)$/],
    [{ WRITER_BATCH_SIZE: "-5" }, /^WRITER_BATCH_SIZE must be at least 1/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL must be one of fatal, error/],
    [{ REDIS_URL: "http://localhost" }, /^REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ DATABASE_URL: "postgres://x" }, /^DATABASE_URL must be a libSQL URL/],
    [{ PORT: "eighty" }, /^PORT must be a number/],
    [{ PORT: "70000" }, /^PORT must be at most 65535/],
    [{ REDIS_PREFIX: "a b" }, /^REDIS_PREFIX must be 1-64 characters/],
    [{ VOTE_OPTIONS: " , " }, /^VOTE_OPTIONS must list at least one option/],
  ])("rejects %j with one line naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("accepts rediss:// and remote libSQL URLs", () => {
    const config = loadConfig({
      REDIS_URL: "rediss://default:secret@eu1.upstash.io:6379",
      DATABASE_URL: "libsql://votes-me.turso.io",
      DATABASE_AUTH_TOKEN: "token",
    });
    expect(config.redis.url.startsWith("rediss://")).toBe(true);
    expect(config.database.authToken).toBe("token");
  });
});

/**
 * The Lua scripts in `lib/lua/`, each run with EVALSHA and, when Redis does not know it yet
 * (first call, restart, SCRIPT FLUSH), with EVAL, which also caches it for the next call.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script; `keys` become KEYS, `args` ARGV. */
  async run<T = unknown>(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return (await redis.eval(this.source, keys.length, ...keys, ...args)) as T;
    }
  }
}

const load = (name: string) =>
  new LuaScript(name, readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8"));

/** Every script, read once per process. */
export const scripts = {
  submit: load("submit"),
  submitBatch: load("submitBatch"),
  seed: load("seed"),
  commit: load("commit"),
  acquireLease: load("acquireLease"),
  renewLease: load("renewLease"),
  releaseLease: load("releaseLease"),
  raiseLimit: load("raiseLimit"),
};

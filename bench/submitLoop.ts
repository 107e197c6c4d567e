/**
 * Bench: the Redis ceiling. The submit script called in a tight loop from one Node process, with
 * the API's connection options and a fixed number of votes in flight: what the queue can take
 * without HTTP. Either one `submit.lua` call per vote, or the API's own path (`enqueueVote`, which
 * shares one `submitBatch.lua` call among the votes of an event-loop turn). Also fills the queue
 * for the drain.
 */
import type { Config } from "../lib/config.js";
import { createDeps } from "../lib/deps.js";
import { keysFor } from "../lib/keys.js";
import { createLogger } from "../lib/logger.js";
import { enqueueVote } from "../lib/queue.js";
import { scripts } from "../lib/scripts.js";

export interface SubmitLoopResult {
  submitted: number;
  seconds: number;
  rate: number;
  errors: number;
}

export interface SubmitLoopOptions {
  /** Stop after this long, or */
  seconds?: number;
  /** after this many votes were queued. */
  count?: number;
  inFlight?: number;
  /** Through enqueueVote (batched, as POST /votes does) instead of one submit.lua per vote. */
  batched?: boolean;
  onProgress?: (submitted: number) => void;
}

const OPTIONS = ["option1", "option2", "option3", "option4"];

export async function submitLoop(
  config: Config,
  options: SubmitLoopOptions,
): Promise<SubmitLoopResult> {
  const keys = keysFor(config.redis.prefix);
  const deps = createDeps(config, createLogger({ level: "silent", format: "json" }, "bench"));
  const redis = deps.redis();
  const runId = await redis.runId();
  const deadline = options.seconds ? performance.now() + options.seconds * 1000 : Infinity;
  const limit = options.count ?? Infinity;
  let started = 0;
  let submitted = 0;
  let errors = 0;
  const begin = performance.now();
  const progress = setInterval(() => options.onProgress?.(submitted), 1000);
  const lane = async () => {
    while (started < limit && performance.now() < deadline) {
      started++;
      const option = OPTIONS[started % OPTIONS.length] as string;
      try {
        if (options.batched) {
          await enqueueVote(deps, option, undefined);
          submitted++;
          continue;
        }
        const [code] = await scripts.submit.run<[number, number, number]>(
          redis.client,
          [keys.meta, keys.stream, keys.idempotency("")],
          [option, config.maxQueueLength, config.idempotencyTtlSeconds * 1000, "", runId],
        );
        if (code === 1) submitted++;
        else errors++;
      } catch {
        errors++;
      }
      if (errors > 1000 && submitted === 0) throw new Error("the submit script refuses every vote");
    }
  };
  try {
    await Promise.all(Array.from({ length: options.inFlight ?? 64 }, lane));
  } finally {
    clearInterval(progress);
    await deps.close();
  }
  const seconds = (performance.now() - begin) / 1000;
  return { submitted, seconds, rate: submitted / seconds, errors };
}

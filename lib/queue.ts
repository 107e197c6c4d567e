/**
 * The API's side of the queue: accept a vote (one Redis round trip, the submit script) and find a
 * vote that is still queued.
 */
import type { Deps } from "./deps.js";
import { entryId } from "./keys.js";
import { HttpProblem, unavailable } from "./problem.js";
import { redisDown } from "./redis.js";
import { scripts } from "./scripts.js";

export interface Vote {
  id: number;
  option: string;
  createdAt: number;
}

export interface Accepted extends Vote {
  /** True when an earlier request with the same Idempotency-Key already queued it. */
  replay: boolean;
}

/** Runs a Redis call; a connection failure or timeout becomes a 503. */
export async function withRedis<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    throw redisDown(error);
  }
}

/** Queues a validated vote; throws the contract's 503/422 when it cannot be accepted. */
export async function enqueueVote(
  deps: Deps,
  option: string,
  idempotencyKey: string | undefined,
): Promise<Accepted> {
  const { config, keys } = deps;
  const result = await withRedis(async () => {
    const redis = deps.redis();
    const runId = await redis.runId();
    return scripts.submit.run<[number, number, number]>(
      redis.client,
      [keys.meta, keys.stream, keys.idempotency(idempotencyKey ?? "")],
      [
        option,
        config.maxQueueLength,
        config.idempotencyTtlSeconds * 1000,
        idempotencyKey ?? "",
        runId,
      ],
    );
  });
  const [code, id, createdAt] = result;
  switch (code) {
    case 1:
    case 2:
      return { id, option, createdAt, replay: code === 2 };
    case -1:
      throw unavailable(
        "not-seeded",
        "The service is starting: no writer has prepared the vote queue yet; retry shortly.",
        2,
      );
    case -2:
      throw unavailable(
        "queue-full",
        `The queue holds ${config.maxQueueLength} unwritten votes (MAX_QUEUE_LENGTH); retry later.`,
        5,
      );
    case -3:
      throw new HttpProblem(
        422,
        `This Idempotency-Key was already used for vote ${id} with another option; use a new key for a new vote.`,
        { reason: "idempotency-key-reused" },
      );
    default:
      throw unavailable(
        "ids-exhausted",
        "The writer has not reserved more vote ids; it may be down. Retry shortly.",
        5,
      );
  }
}

/** The vote with this id while it waits in the queue, or undefined. */
export async function findQueued(deps: Deps, id: number): Promise<Vote | undefined> {
  const entries = await withRedis(() =>
    deps.redis().client.xrange(deps.keys.stream, entryId(id), entryId(id)),
  );
  const fields = entries[0]?.[1];
  if (!fields) return undefined;
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2)
    map.set(fields[i] as string, fields[i + 1] as string);
  return { id, option: map.get("option") ?? "", createdAt: Number(map.get("created_at")) };
}

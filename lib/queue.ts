/**
 * The API's side of the queue: accept a vote (one Redis round trip, the submit script, shared by
 * the votes of one event-loop turn) and find a vote that is still queued.
 */
import type { Deps } from "./deps.js";
import { entryId } from "./keys.js";
import { HttpProblem, unavailable } from "./problem.js";
import { type RedisConnection, redisDown } from "./redis.js";
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
  const { config } = deps;
  const result = await withRedis(() => submitInBatch(deps, option, idempotencyKey ?? ""));
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

type Outcome = [code: number, id: number, createdAtMs: number];

interface Waiting {
  option: string;
  key: string;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

/** Votes per submitBatch call at most (a busy process sends several calls per turn). */
const MAX_BATCH = 256;
/** The batch still open for more votes, per Redis connection (one per process). */
const open = new WeakMap<RedisConnection, Waiting[]>();

/**
 * Runs the submit logic for this vote together with every other vote this process received in
 * the same event-loop turn: one `submitBatch.lua` call (one round trip, one script run) for all
 * of them, sent from `setImmediate`, i.e. after the turn's I/O callbacks. Each vote gets the
 * outcome a `submit.lua` call of its own would give; a failed call fails each of its votes.
 */
function submitInBatch(deps: Deps, option: string, key: string): Promise<Outcome> {
  const redis = deps.redis();
  return new Promise<Outcome>((resolve, reject) => {
    let batch = open.get(redis);
    if (!batch) {
      const fresh: Waiting[] = [];
      batch = fresh;
      open.set(redis, fresh);
      setImmediate(() => {
        if (open.get(redis) === fresh) open.delete(redis);
        void sendBatch(deps, redis, fresh);
      });
    }
    batch.push({ option, key, resolve, reject });
    if (batch.length >= MAX_BATCH) open.delete(redis);
  });
}

async function sendBatch(deps: Deps, redis: RedisConnection, batch: Waiting[]): Promise<void> {
  const { config, keys } = deps;
  try {
    const runId = await redis.runId();
    const records: string[] = [];
    const args: (string | number)[] = [
      config.maxQueueLength,
      config.idempotencyTtlSeconds * 1000,
      runId,
    ];
    for (const vote of batch) {
      if (vote.key !== "") records.push(keys.idempotency(vote.key));
      args.push(vote.option, vote.key);
    }
    const out = await scripts.submitBatch.run<number[]>(
      redis.client,
      [keys.meta, keys.stream, ...records],
      args,
    );
    batch.forEach((vote, i) => {
      vote.resolve([out[3 * i] ?? 0, out[3 * i + 1] ?? 0, out[3 * i + 2] ?? 0]);
    });
  } catch (error) {
    for (const vote of batch) vote.reject(error);
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

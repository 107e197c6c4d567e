/**
 * The single writer: waits for the lease, seeds Redis from SQLite, then drains the stream in
 * batches: one SQLite transaction per batch, then totals published, entries acknowledged and
 * trimmed. Nothing is acknowledged before SQLite committed it; a replayed entry is skipped.
 */
import type { Client } from "@libsql/client";
import type { Config } from "../lib/config.js";
import { type Keys, keysFor } from "../lib/keys.js";
import type { Logger } from "../lib/logger.js";
import type { RedisConnection } from "../lib/redis.js";
import { scripts } from "../lib/scripts.js";
import { parseEntries, type RawEntry } from "./entries.js";
import { Lease } from "./lease.js";
import { applyVotes, fence, isFenced, readAllTotals, readState } from "./sqlite.js";

export interface BatchReport {
  size: number;
  applied: number;
  deadLettered: number;
  applyMs: number;
  /** Age of the oldest vote in the batch when it committed. */
  lagMs: number;
}

export interface WriterHooks {
  onBatch?(report: BatchReport): void;
  onRole?(role: WriterRole): void;
}

export type WriterRole = "starting" | "standby" | "leader" | "stopped";

export interface WriterDeps {
  config: Config;
  log: Logger;
  db: Client;
  /** For every command but the blocking read. */
  redis: RedisConnection;
  /** Only for `XREADGROUP … BLOCK`. */
  blocking: RedisConnection;
  hooks?: WriterHooks;
}

/** Consumer name: one writer at a time, so a new leader reads the old one's pending entries. */
const CONSUMER = "writer";
const PENDING_CHECK_MS = 1000;
/** Pause after a batch that was not full (see #loop). */
const LINGER_MS = 10;

class Stopped extends Error {}

export class Writer {
  readonly lease: Lease;
  role: WriterRole = "starting";
  readonly #keys: Keys;
  readonly #idBlock: number;
  #closing = false;
  #run: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #wake = new AbortController();
  #seededRun: string | undefined;
  #readPending = true;
  #lastPendingCheck = 0;
  /** The next fresh read, sent while the current batch is written (see #process). */
  #prefetch: Promise<RawEntry[]> | undefined;

  constructor(private readonly deps: WriterDeps) {
    this.#keys = keysFor(deps.config.redis.prefix);
    this.#idBlock = Math.max(2 * deps.config.maxQueueLength, 10_000);
    this.lease = new Lease(deps.redis.client, this.#keys, deps.config.writer.leaseMs, deps.log);
    this.lease.onLost(() => this.#wake.abort());
  }

  /** Starts the loop; the promise settles when the writer has stopped. */
  start(): Promise<void> {
    this.#run ??= this.#loop();
    return this.#run;
  }

  /** Finishes the batch in hand, releases the lease, closes connections. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      this.#wake.abort();
      // Interrupts a blocking read; what it had delivered stays pending for the next leader.
      this.deps.blocking.client.disconnect();
      await this.#run?.catch(() => {});
      await this.lease.release();
      await Promise.all([this.deps.redis.close(), this.deps.blocking.close()]);
      this.#setRole("stopped");
    })();
    return this.#closed;
  }

  async #loop(): Promise<void> {
    const { log } = this.deps;
    while (!this.#closing) {
      try {
        if (!this.lease.held()) await this.#standby();
        else if (this.#seededRun === undefined) await this.#seed();
        else {
          await this.#checkRedis();
          const entries = await this.#read();
          if (entries.length > 0) {
            await this.#process(entries);
            // A short batch means the queue is (nearly) empty. Under a steady stream of votes,
            // wait a moment before the next read so that each transaction and fsync carries
            // many votes instead of a few (each batch has a fixed cost of a few SQLite
            // statements, an fsync and two Redis calls). A vote waits at most LINGER_MS more.
            if (entries.length < this.deps.config.writer.batchSize) await this.#sleep(LINGER_MS);
          }
        }
      } catch (error) {
        this.#dropPrefetch();
        if (error instanceof Stopped || this.#closing) continue;
        if (isFenced(error)) {
          this.lease.lose("a newer writer has committed (fencing token)");
          continue;
        }
        if (isNoGroup(error)) {
          log.warn("the stream or its consumer group is gone: Redis lost its data; re-seeding");
          this.#seededRun = undefined;
          continue;
        }
        log.warn({ err: error }, "writer step failed; retrying");
        await this.#sleep(500);
      }
    }
  }

  /** Waits as a hot standby until the lease is free, then takes it and fences older writers. */
  async #standby(): Promise<void> {
    this.#dropPrefetch();
    this.#seededRun = undefined;
    this.#setRole("standby");
    // A lost lease aborted the previous signal; sleeps here must really wait.
    if (!this.#closing) this.#wake = new AbortController();
    const poll = Math.min(200, this.deps.config.writer.leaseMs / 5);
    let lastWarning = 0;
    for (;;) {
      if (this.#closing) throw new Stopped();
      try {
        const state = await readState(this.deps.db);
        if (await this.lease.tryAcquire(state.fenceToken)) break;
      } catch (error) {
        // Once, then every 10 s: a standby waiting out an outage should not flood the log.
        if (Date.now() - lastWarning > 10_000) {
          lastWarning = Date.now();
          this.deps.log.warn({ err: error }, `standby: cannot take the lease yet: ${hint(error)}`);
        }
      }
      await this.#sleep(poll);
    }
    await this.#retry("record the fencing token", () => fence(this.deps.db, this.lease.token));
    this.#readPending = true;
    this.#setRole("leader");
    this.deps.log.info(
      { token: this.lease.token, writer: this.lease.writerId },
      "took the writer lease",
    );
  }

  /**
   * Seeds Redis from SQLite: reserves ids above any ever handed out, then sets the counter,
   * the limit, the consumer group and all totals, atomically.
   */
  async #seed(): Promise<void> {
    this.#dropPrefetch();
    const { db, redis, log } = this.deps;
    const run = await redis.runId();
    const state = await readState(db);
    const [seq, seededOn] = await redis.client.hmget(this.#keys.meta, "seq", "run");
    const trusted = seq !== null && seededOn === run;
    const base = trusted ? Number(seq) : Math.max(state.idCeiling, state.maxId);
    const ceiling = Math.max(state.idCeiling, base + this.#idBlock);
    await this.#retry("reserve vote ids", () => fence(db, this.lease.token, ceiling));
    const totals = await readAllTotals(db);
    const next = await scripts.seed.run<number>(
      redis.client,
      [this.#keys.meta, this.#keys.stream, this.#keys.totals, this.#keys.lease],
      [
        this.#keys.group,
        state.maxId,
        state.idCeiling,
        ceiling,
        run,
        this.lease.value,
        ...totals.flat(),
      ],
    );
    if (next < 0) return this.lease.lose("the lease key is gone");
    this.#seededRun = run;
    this.#readPending = true;
    log.info(
      { seq: next, limit: ceiling, options: totals.length, trustedCounter: trusted },
      "seeded Redis from SQLite",
    );
  }

  /** Notices a Redis that restarted (new run id) or lost the meta hash: re-seed. */
  async #checkRedis(): Promise<void> {
    const run = await this.deps.redis.runId();
    if (run !== this.#seededRun) {
      this.deps.log.warn("Redis restarted or failed over; re-seeding");
      this.#seededRun = undefined;
      throw new Stopped();
    }
  }

  async #read(): Promise<RawEntry[]> {
    const prefetched = this.#prefetch;
    if (prefetched) {
      this.#prefetch = undefined;
      return prefetched;
    }
    const { config, redis } = this.deps;
    const { stream, group, meta } = this.#keys;
    const count = config.writer.batchSize;
    if (this.#readPending || Date.now() - this.#lastPendingCheck > PENDING_CHECK_MS) {
      this.#lastPendingCheck = Date.now();
      if ((await redis.client.hexists(meta, "run")) === 0) {
        this.deps.log.warn("the meta hash is gone: Redis lost its data; re-seeding");
        this.#seededRun = undefined;
        return [];
      }
      const pending = await redis.client.xreadgroup(
        "GROUP",
        group,
        CONSUMER,
        "COUNT",
        count,
        "STREAMS",
        stream,
        "0",
      );
      const entries = entriesOf(pending);
      if (entries.length > 0) return entries;
      this.#readPending = false;
    }
    return this.#readFresh();
  }

  async #readFresh(): Promise<RawEntry[]> {
    const { config, blocking } = this.deps;
    const { stream, group } = this.#keys;
    const count = config.writer.batchSize;
    const fresh = await blocking.client.xreadgroup(
      "GROUP",
      group,
      CONSUMER,
      "COUNT",
      count,
      "BLOCK",
      config.writer.blockMs,
      "STREAMS",
      stream,
      ">",
    );
    return entriesOf(fresh);
  }

  /**
   * A full batch means more are waiting: ask Redis for the next one now, so that its reply is
   * ready when this one is written (SQLite runs on this thread; Redis works meanwhile). The
   * entries it delivers are pending until acknowledged, exactly as if read afterwards; if the
   * read is dropped (error, lost lease) they are read again from the pending list.
   */
  #startPrefetch(entries: RawEntry[]): void {
    if (this.#prefetch || this.#readPending || this.#closing) return;
    // Let the periodic look at the pending list run even under steady load: an entry stuck
    // there (delivered to a writer that lost its lease) would otherwise hold back the trim.
    if (Date.now() - this.#lastPendingCheck > PENDING_CHECK_MS) return;
    if (entries.length < this.deps.config.writer.batchSize) return;
    const next = this.#readFresh();
    next.catch(() => {});
    this.#prefetch = next;
  }

  #dropPrefetch(): void {
    if (!this.#prefetch) return;
    this.#prefetch = undefined;
    this.#readPending = true;
  }

  async #process(entries: RawEntry[]): Promise<void> {
    const { db, redis, hooks } = this.deps;
    const batch = parseEntries(entries);
    this.#startPrefetch(entries);
    const started = performance.now();
    const totals =
      batch.votes.length === 0
        ? []
        : await this.#retry("write the batch to SQLite", () =>
            applyVotes(db, this.lease.token, batch.votes),
          );
    const applyMs = performance.now() - started;
    const committedAt = Date.now();
    const last = entries[entries.length - 1]?.[0] ?? "0-0";
    const [acked, seq, limit] = await this.#retry("acknowledge the batch in Redis", () =>
      scripts.commit.run<[number, number, number]>(
        redis.client,
        [
          this.#keys.stream,
          this.#keys.totals,
          this.#keys.deadLetter,
          this.#keys.lease,
          this.#keys.meta,
        ],
        [
          this.#keys.group,
          after(last),
          batch.entryIds.length,
          ...batch.entryIds,
          totals.length,
          ...totals.flat(),
          batch.dead.length,
          ...batch.dead.flatMap((d) => [d.entryId, d.reason, d.fields]),
          this.lease.value,
        ],
      ),
    );
    if (acked < 0)
      return this.lease.lose("the lease was taken over before the batch was acknowledged");
    if (batch.dead.length > 0) {
      this.deps.log.warn(
        { entries: batch.dead.map((d) => d.entryId) },
        "dead-lettered malformed entries",
      );
    }
    const oldest = batch.votes.reduce((min, v) => Math.min(min, v.createdAt), committedAt);
    hooks?.onBatch?.({
      size: entries.length,
      applied: batch.votes.length,
      deadLettered: batch.dead.length,
      applyMs,
      lagMs: committedAt - oldest,
    });
    if (limit - seq < this.#idBlock / 2) await this.#raiseLimit(seq);
  }

  /** Keeps the API's id limit ahead of the counter; the ceiling is durable before it is used. */
  async #raiseLimit(seq: number): Promise<void> {
    const ceiling = seq + this.#idBlock;
    await this.#retry("reserve vote ids", () => fence(this.deps.db, this.lease.token, ceiling));
    const raised = await scripts.raiseLimit.run<number>(
      this.deps.redis.client,
      [this.#keys.meta, this.#keys.lease],
      [ceiling, this.#seededRun ?? "", this.lease.value],
    );
    if (raised < 0) this.lease.lose("the lease key is gone");
    else if (raised === 0) this.#seededRun = undefined;
  }

  /**
   * Retries a step with backoff while this writer still leads. A fenced commit is not retried:
   * a newer writer owns the queue.
   */
  async #retry<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (!this.lease.held()) throw new Stopped();
      try {
        return await step();
      } catch (error) {
        if (isFenced(error) || isNoGroup(error)) throw error;
        if (this.#closing && attempt > 0) throw new Stopped();
        const delay = Math.min(100 * 2 ** attempt, 5000);
        if (attempt === 0 || attempt % 10 === 0) {
          this.deps.log.warn(
            { err: error, attempt, retryInMs: delay },
            `could not ${what}: ${hint(error)}`,
          );
        }
        await this.#sleep(delay);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#wake.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      // The listener goes when the sleep ends: a standby polling for hours must not pile them up.
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", wake);
        resolve();
      }, ms);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  #setRole(role: WriterRole): void {
    if (this.role === role) return;
    this.role = role;
    this.deps.hooks?.onRole?.(role);
  }
}

type ReadReply = [string, RawEntry[]][] | null;

function entriesOf(reply: unknown): RawEntry[] {
  return ((reply as ReadReply)?.[0]?.[1] ?? []) as RawEntry[];
}

/** The smallest entry id after `id`: trimming below it removes `id` and everything older. */
function after(id: string): string {
  const [ms = "0", seq = "0"] = id.split("-");
  return `${ms}-${BigInt(seq) + 1n}`;
}

const isNoGroup = (error: unknown) => String((error as Error)?.message).startsWith("NOGROUP");

function hint(error: unknown): string {
  const text = String((error as Error)?.message ?? error);
  if (/SQLITE_BUSY|database is locked/i.test(text)) {
    return "the database file is locked by another process; will retry until it is released";
  }
  if (/SQLITE_READONLY|readonly|SQLITE_CANTOPEN|SQLITE_PERM/i.test(text)) {
    return "the database file is not writable; check its permissions and free disk space";
  }
  if (/SQLITE_FULL|disk is full/i.test(text)) return "the disk is full; free some space";
  if (/SQLITE_IOERR|disk I\/O error/i.test(text)) {
    return "the database file cannot be written (I/O error); check its permissions, the disk and the filesystem";
  }
  if (
    /ECONNREFUSED|ETIMEDOUT|Connection is closed|timed out|max retries|Stream isn't writeable/i.test(
      text,
    )
  ) {
    return "Redis is unreachable; will retry until it is back";
  }
  return text;
}

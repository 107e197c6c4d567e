/**
 * The writer lease: one key in Redis (SET NX PX), renewed in the background, with a fencing
 * token that only grows. `held()` answers from the local clock, so a writer that was paused
 * (GC, SIGSTOP) past its lease knows at once that it lost it, before asking Redis.
 */

import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Keys } from "../lib/keys.js";
import type { Logger } from "../lib/logger.js";
import { scripts } from "../lib/scripts.js";

export class Lease {
  readonly writerId = randomUUID();
  token = 0;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #lost: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** The value stored under the lease key while this writer holds it. */
  get value(): string {
    return `${this.writerId}:${this.token}`;
  }

  /** True while the lease is certainly this writer's (with a margin for clock drift). */
  held(): boolean {
    return this.token > 0 && Date.now() < this.#validUntil;
  }

  /** Tries once to take the lease; true when taken. `floor`: the highest token SQLite saw. */
  async tryAcquire(floor: number): Promise<boolean> {
    const started = Date.now();
    const token = await scripts.acquireLease.run<number>(
      this.redis,
      [this.keys.lease, this.keys.fence],
      [this.writerId, this.leaseMs, floor],
    );
    if (token <= 0) return false;
    this.token = token;
    this.#validUntil = started + this.leaseMs * 0.8;
    this.#schedule();
    return true;
  }

  /** Calls `onLost` once when a renewal finds the lease gone or taken. */
  onLost(onLost: () => void): void {
    this.#lost = onLost;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#renew(), Math.max(100, this.leaseMs / 3));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    if (this.token === 0) return;
    // Once held() has said false, the writer may have acted on it (gone to standby): a lease
    // that ran out locally is lost for good, never revived by a late renewal. Otherwise a
    // writer whose renewal outlived a Redis restart (the key back from the AOF) renewed a
    // lease it no longer used, for ever, and no writer could take it.
    if (!this.held()) return this.#drop("the lease ran out before it could be renewed");
    const started = Date.now();
    try {
      const renewed = await scripts.renewLease.run<number>(
        this.redis,
        [this.keys.lease],
        [this.value, this.leaseMs],
      );
      if (renewed !== 1) return this.#drop("the lease was taken over or expired");
      if (!this.held()) return this.#drop("the lease ran out while its renewal was in flight");
      this.#validUntil = started + this.leaseMs * 0.8;
    } catch (error) {
      // Keep trying while the lease may still be ours; held() turns false when it runs out.
      this.log.warn({ err: error }, "could not renew the writer lease; retrying");
      if (!this.held()) return this.#drop("the lease ran out while Redis was unreachable");
    }
    this.#schedule();
  }

  #drop(why: string): void {
    if (this.token === 0) return;
    this.log.warn({ token: this.token }, `lost the writer lease: ${why}`);
    const value = this.value;
    this.token = 0;
    this.#validUntil = 0;
    clearTimeout(this.#timer);
    // If the key still holds this writer's value (it ran out only locally), free it now rather
    // than make every standby wait for its TTL; a no-op when another writer holds it.
    void scripts.releaseLease.run(this.redis, [this.keys.lease], [value]).catch(() => {});
    this.#lost?.();
  }

  /** Marks the lease lost (e.g. the fencing check refused a commit). */
  lose(why: string): void {
    this.#drop(why);
  }

  /** Gives the lease up so a standby can take over at once. Safe to call twice. */
  async release(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.token === 0) return;
    const value = this.value;
    this.token = 0;
    this.#validUntil = 0;
    await scripts.releaseLease.run(this.redis, [this.keys.lease], [value]).catch(() => {});
  }
}

/**
 * Redis key names. Every key of one deployment shares the `{prefix}` hash tag, so the Lua
 * scripts that touch several keys also run on Redis Cluster.
 */
export interface Keys {
  /** The queue: one entry per accepted vote, entry id `<vote id>-0`. */
  stream: string;
  /** The consumer group the writer reads the stream through. */
  group: string;
  /** Hash: `seq` (last id handed out), `limit` (highest id the writer reserved), `seeded`. */
  meta: string;
  /** Hash: option → absolute total, published by the writer from SQLite. */
  totals: string;
  /** The writer lease: value `<writer id>:<fencing token>`, with a TTL. */
  lease: string;
  /** Counter behind the fencing tokens. */
  fence: string;
  /** Entries the writer could not apply, each with its reason. */
  deadLetter: string;
  /** `Idempotency-Key` records, one key each. */
  idempotency: (key: string) => string;
}

export function keysFor(prefix: string): Keys {
  const p = `{${prefix}}`;
  return {
    stream: `${p}:stream`,
    group: "writer",
    meta: `${p}:meta`,
    totals: `${p}:totals`,
    lease: `${p}:lease`,
    fence: `${p}:fence`,
    deadLetter: `${p}:dead`,
    idempotency: (key) => `${p}:idem:${key}`,
  };
}

/** Stream entry id of a vote. */
export const entryId = (voteId: number) => `${voteId}-0`;

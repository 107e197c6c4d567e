/**
 * Support for the guarantee suites: votes sent through the real functions (in process), a
 * steady background load that records every 202, and readers of the SQLite file and Redis keys
 * the checks compare.
 */
import { type Client, createClient } from "@libsql/client";
import type { Redis } from "ioredis";
import { makeGetTotals } from "../../functions/getTotals.js";
import { makeSubmitVote } from "../../functions/submitVote.js";
import type { Config } from "../../lib/config.js";
import type { Deps } from "../../lib/deps.js";
import { keysFor } from "../../lib/keys.js";
import { eventually, postVote, testDeps } from "../support/fixtures.js";

export interface AcceptedVote {
  id: number;
  option: string;
  /** `created_at` as the 202 gave it (RFC 3339). */
  created_at: string;
}

/** The functions of one deployment, called with `Request`s in this process. */
export class Api {
  readonly deps: Deps;
  readonly #submit;
  readonly #totals;

  constructor(config: Config) {
    this.deps = testDeps(config);
    this.#submit = makeSubmitVote(this.deps);
    this.#totals = makeGetTotals(this.deps);
  }

  /** POST /votes; the parsed body and status. */
  async vote(
    option: string,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const response = await this.#submit(postVote(option));
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body, headers: response.headers };
  }

  /** POST /votes that must answer 202. */
  async accepted(option: string): Promise<AcceptedVote> {
    const { status, body } = await this.vote(option);
    if (status !== 202) throw new Error(`POST /votes answered ${status}: ${JSON.stringify(body)}`);
    return body as unknown as AcceptedVote;
  }

  /** GET /votes. */
  async totals(): Promise<Record<string, number>> {
    const response = await this.#totals(new Request("http://votes.test/votes"));
    if (response.status !== 200) throw new Error(`GET /votes answered ${response.status}`);
    return (await response.json()) as Record<string, number>;
  }

  close(): Promise<void> {
    return this.deps.close();
  }
}

export const OPTIONS = ["option1", "option2", "option3", "café"];

/**
 * Posts votes from `concurrency` loops until stopped, pausing `pauseMs` between posts of a loop
 * (so the load stays gentle on a shared machine). Records every 202 and counts the rest.
 */
export class VoteLoad {
  readonly accepted: AcceptedVote[] = [];
  readonly refused = new Map<number, number>();
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(
    private readonly api: Api,
    concurrency = 2,
    private readonly pauseMs = 2,
  ) {
    this.#loops = Array.from({ length: concurrency }, (_, i) => this.#loop(i));
  }

  async #loop(seed: number): Promise<void> {
    let n = seed;
    while (this.#running) {
      const option = OPTIONS[n++ % OPTIONS.length] as string;
      try {
        const { status, body } = await this.api.vote(option);
        if (status === 202) this.accepted.push(body as unknown as AcceptedVote);
        else this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
      } catch {
        this.refused.set(0, (this.refused.get(0) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, this.pauseMs));
    }
  }

  /** Posts `count` votes at once (recorded like the rest); resolves when all answered. */
  async burst(count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const { status, body } = await this.api.vote(OPTIONS[i % OPTIONS.length] as string);
        if (status === 202) this.accepted.push(body as unknown as AcceptedVote);
        else this.refused.set(status, (this.refused.get(status) ?? 0) + 1);
      }),
    );
  }

  /** Stops posting; resolves once every request in flight has answered. */
  async stop(): Promise<AcceptedVote[]> {
    this.#running = false;
    await Promise.all(this.#loops);
    return this.accepted;
  }
}

/** A plain client on the SQLite file, for the test's own reads. */
export function openSqlite(databaseUrl: string): Client {
  return createClient({ url: databaseUrl });
}

export interface VoteRow {
  id: number;
  option: string;
  createdAt: number;
}

export async function votesById(db: Client): Promise<Map<number, VoteRow>> {
  const result = await db.execute("SELECT id, option, created_at FROM votes");
  const rows = new Map<number, VoteRow>();
  for (const r of result.rows) {
    rows.set(Number(r[0]), { id: Number(r[0]), option: String(r[1]), createdAt: Number(r[2]) });
  }
  return rows;
}

export async function countVotes(db: Client): Promise<number> {
  return Number((await db.execute("SELECT count(*) FROM votes")).rows[0]?.[0]);
}

/** `SELECT option, count(*) FROM votes GROUP BY option`. */
export async function countsByOption(db: Client): Promise<Record<string, number>> {
  const result = await db.execute("SELECT option, count(*) FROM votes GROUP BY option");
  return Object.fromEntries(result.rows.map((r) => [String(r[0]), Number(r[1])]));
}

/** The `totals` table the writer maintains. */
export async function totalsTable(db: Client): Promise<Record<string, number>> {
  const result = await db.execute("SELECT option, count FROM totals WHERE count > 0");
  return Object.fromEntries(result.rows.map((r) => [String(r[0]), Number(r[1])]));
}

export async function fenceToken(db: Client): Promise<number> {
  return Number((await db.execute("SELECT fence_token FROM writer_state")).rows[0]?.[0]);
}

/** Entry ids delivered to the writer and not acknowledged yet. */
export async function pendingIds(redis: Redis, prefix: string): Promise<string[]> {
  const keys = keysFor(prefix);
  try {
    const rows = (await redis.xpending(keys.stream, keys.group, "-", "+", 100_000)) as [
      string,
      ...unknown[],
    ][];
    return rows.map((row) => row[0]);
  } catch {
    return []; // no stream or group (yet)
  }
}

/** Waits until a writer has seeded this deployment's Redis (votes can be accepted). */
export async function seeded(redis: Redis, prefix: string, timeoutMs = 15_000): Promise<void> {
  const { meta } = keysFor(prefix);
  await eventually(async () => (await redis.hexists(meta, "run")) === 1, timeoutMs, "the seed");
}

/** Checks every accepted vote is one row with its option and created_at; returns mismatches. */
export function compareWithAccepted(
  accepted: readonly AcceptedVote[],
  rows: ReadonlyMap<number, VoteRow>,
): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  for (const vote of accepted) {
    if (ids.has(vote.id)) problems.push(`id ${vote.id} was handed out twice`);
    ids.add(vote.id);
    const row = rows.get(vote.id);
    if (!row) problems.push(`accepted vote ${vote.id} is not in SQLite`);
    else if (row.option !== vote.option) problems.push(`vote ${vote.id}: option ${row.option}`);
    else if (new Date(row.createdAt).toISOString() !== vote.created_at) {
      problems.push(`vote ${vote.id}: created_at ${row.createdAt} vs ${vote.created_at}`);
    }
  }
  for (const id of rows.keys()) if (!ids.has(id)) problems.push(`row ${id} was never accepted`);
  return problems.slice(0, 20);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A uniformly random whole number of milliseconds in [min, max]. */
export const randomMs = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

/**
 * The chaos run: the real processes (the API as `local.ts`, two writers as `writer/main.ts`, a
 * private redis-server with AOF) under steady load, with faults injected one after the other.
 * Every 202 is recorded; after each fault and at the end the run checks that each accepted id
 * is in SQLite exactly once with its option and created_at, and that the totals agree.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { drizzleOf } from "../../lib/db.js";
import { keysFor } from "../../lib/keys.js";
import { MIGRATIONS_FOLDER } from "../../lib/migrations.js";
import { freePort, RedisServer } from "../../test/support/redisServer.js";
import { type AcceptedVote, Load, sleep } from "./load.js";
import { ServiceProcess } from "./process.js";
import { SqliteLock } from "./sqliteLock.js";

export const FAULTS = [
  "writer-sigkill",
  "writer-sigstop",
  "redis-restart",
  "redis-flush",
  "redis-flush-under-load",
  "sqlite-locked",
] as const;
export type Fault = (typeof FAULTS)[number];

export interface ChaosOptions {
  /** Small and fast (for `npm test`): fewer kills, shorter lease and outages. */
  quick: boolean;
  faults: readonly Fault[];
  /** AOF fsync policy of the private Redis. */
  fsync: "everysec" | "always";
  clients?: number;
  sigkills?: number;
  log?: (line: string) => void;
}

export interface PhaseResult {
  fault: Fault | "steady";
  injections: number;
  accepted: number;
  recorded: number;
  lost: number;
  /** Accepted, then destroyed by the fault itself as documented (FLUSHALL, the AOF window). */
  lostByDesign: number;
  /** An id answered twice, or a row whose option or created_at differs from its 202. */
  duplicated: number;
  refused: number;
  /** From injecting the fault to: votes accepted again and every earlier vote in SQLite. */
  recoverMs: number | undefined;
  note: string;
}

export interface ChaosReport {
  phases: PhaseResult[];
  totalAccepted: number;
  totalsAgree: boolean;
  problems: string[];
  ok: boolean;
}

interface Phase {
  fault: Fault;
  start: number;
  end: number;
  injections: number;
  refusedBefore: number;
  refusedAfter: number;
  recoverMs: number | undefined;
  note: string;
  /** Decides whether a missing vote of this phase was lost by the fault's documented design. */
  byDesign?: (vote: AcceptedVote) => boolean;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const quick = options.quick;
  const leaseMs = quick ? 1000 : 2000;
  const sigkills = options.sigkills ?? (quick ? 3 : 10);
  const clients = options.clients ?? (quick ? 2 : 4);
  // Generous: a machine busy with other work slows recovery; this is a bound, not a target.
  const recoverTimeoutMs = quick ? 60_000 : 90_000;
  const dir = mkdtempSync(join(tmpdir(), "votes-chaos-"));
  const databaseUrl = `file:${join(dir, "votes.db")}`;
  const redis = new RedisServer({
    args: ["--appendonly", "yes", "--appendfsync", options.fsync, "--appenddirname", "aof"],
  });
  const processes: ServiceProcess[] = [];
  const problems: string[] = [];
  let db: Client | undefined;
  let load: Load | undefined;
  try {
    await redis.start();
    const setup = createClient({ url: databaseUrl });
    await migrate(drizzleOf(setup), { migrationsFolder: MIGRATIONS_FOLDER });
    setup.close();
    const reader = createClient({ url: databaseUrl });
    db = reader;
    await reader.execute("PRAGMA busy_timeout = 2000");
    const prefix = "chaos";
    const keys = keysFor(prefix);
    const port = await freePort();
    const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({
      ...process.env,
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      DATABASE_URL: databaseUrl,
      WRITER_LEASE_MS: String(leaseMs),
      WRITER_BLOCK_MS: "200",
      WRITER_METRICS_PORT: "0",
      WEB_CONCURRENCY: "1",
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      ...extra,
    });
    const url = `http://127.0.0.1:${port}`;
    const api = new ServiceProcess(
      "api",
      "local.ts",
      env({ PORT: String(port), LOG_LEVEL: "warn" }),
    );
    processes.push(api);
    let writerCount = 0;
    const writers: ServiceProcess[] = [];
    const spawnWriter = () => {
      const writer = new ServiceProcess(`writer-${++writerCount}`, "writer/main.ts", env({}));
      processes.push(writer);
      writers.push(writer);
      return writer;
    };
    spawnWriter();
    spawnWriter();
    const control = redis.client();
    control.on("error", () => {});

    /** The writer process holding the lease now (from the lease key and the writers' logs). */
    const leader = async (): Promise<ServiceProcess> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const value = await control.get(keys.lease).catch(() => null);
        const id = value?.split(":")[0];
        const found = id ? writers.find((w) => w.alive() && w.printed(new RegExp(id))) : undefined;
        if (found) return found;
        if (Date.now() > deadline) throw new Error("no writer took the lease within 15 s");
        await sleep(50);
      }
    };

    log(`waiting for the API on ${url} and a seeded queue`);
    await waitFor(
      async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      "readiness",
      () => `api: ${api.tail()}\nwriters: ${writers.map((w) => w.tail()).join("\n")}`,
    );
    load = new Load(url, clients, quick ? 10 : 5);
    load.start();
    await sleep(quick ? 500 : 2000);

    const accepted = load.accepted;
    const confirmed = new Set<number>();
    /** Checks which of `votes` are in SQLite; returns the missing ones. */
    const missing = async (votes: AcceptedVote[]): Promise<AcceptedVote[]> => {
      const unknown = votes.filter((v) => !confirmed.has(v.id));
      for (let i = 0; i < unknown.length; i += 5000) {
        const chunk = unknown.slice(i, i + 5000);
        const result = await reader.execute({
          sql: "SELECT id FROM votes WHERE id IN (SELECT value FROM json_each(?))",
          args: [JSON.stringify(chunk.map((v) => v.id))],
        });
        for (const row of result.rows) confirmed.add(Number(row[0]));
      }
      return unknown.filter((v) => !confirmed.has(v.id));
    };
    /** Waits until a 202 came after `since` and every vote accepted before `until` (and not excused) is in SQLite. */
    const recovered = async (
      injectedAt: number,
      clearedAt: number,
      excuse?: (v: AcceptedVote) => boolean,
    ) => {
      const deadline = Date.now() + recoverTimeoutMs;
      for (;;) {
        // Accepted again: a vote the server created after the fault cleared (created_at).
        const again = accepted.some((v) => v.createdAt > clearedAt);
        const due = accepted.filter((v) => v.acceptedAt <= clearedAt && !(excuse?.(v) ?? false));
        const gone = await missing(due);
        if (again && gone.length === 0) return Date.now() - injectedAt;
        if (process.env.CHAOS_DEBUG)
          log(
            `recovering: again=${again} due=${due.length} missing=${gone.length} first=${JSON.stringify(gone[0])} now=${Date.now()}`,
          );
        if (Date.now() > deadline) return undefined;
        await sleep(100);
      }
    };

    const phases: Phase[] = [];
    for (const fault of options.faults) {
      const phase: Phase = {
        fault,
        // Contiguous windows: a vote accepted between two faults belongs to the next one.
        start: phases.at(-1)?.end ?? Date.now(),
        end: 0,
        injections: 0,
        refusedBefore: load.refused,
        refusedAfter: 0,
        recoverMs: undefined,
        note: "",
      };
      log(`fault: ${fault}`);
      const injectedAt = Date.now();
      let clearedAt = injectedAt;
      switch (fault) {
        case "writer-sigkill": {
          for (let i = 0; i < sigkills; i++) {
            const victim = await leader();
            await victim.kill();
            writers.splice(writers.indexOf(victim), 1);
            phase.injections++;
            spawnWriter();
            await sleep(200 + Math.floor(Math.random() * 600));
            await leader();
          }
          clearedAt = Date.now();
          phase.note = `${sigkills} leaders SIGKILLed, each replaced`;
          break;
        }
        case "writer-sigstop": {
          const victim = await leader();
          const before = await control.get(keys.lease);
          victim.signal("SIGSTOP");
          phase.injections++;
          // Past its lease: the standby takes over while the paused writer still "holds" a batch.
          await waitFor(
            async () => {
              const now = await control.get(keys.lease).catch(() => before);
              return now !== null && now !== before;
            },
            leaseMs * 10,
            "the standby to take over",
          );
          await sleep(leaseMs);
          victim.signal("SIGCONT");
          clearedAt = Date.now();
          const woke = await waitFor(
            () => victim.printed(/lost the writer lease/),
            10_000,
            "",
          ).then(
            () => true,
            () => false,
          );
          phase.note = woke
            ? "paused past its lease; on waking it logged the lost lease and stood by"
            : "paused past its lease; it did NOT report the lost lease";
          if (!woke)
            problems.push("writer-sigstop: the woken writer did not notice it lost the lease");
          break;
        }
        case "redis-restart": {
          const killedAt = Date.now();
          await redis.stop("SIGKILL");
          phase.injections++;
          await sleep(quick ? 300 : 1000);
          await redis.start();
          clearedAt = Date.now();
          if (options.fsync === "everysec") {
            phase.byDesign = (v) => v.createdAt <= killedAt && v.createdAt > killedAt - 1000;
            phase.note = "kill -9 with appendfsync everysec: at most the last second may be lost";
          } else {
            phase.note = "kill -9 with appendfsync always: nothing may be lost";
          }
          break;
        }
        case "redis-flush": {
          await load.pause();
          await waitFor(
            async () => (await missing(accepted)).length === 0,
            recoverTimeoutMs,
            "a drained queue",
          );
          await control.flushall();
          phase.injections++;
          load.resume();
          clearedAt = Date.now();
          phase.note = "FLUSHALL after the queue drained: nothing queued to lose";
          break;
        }
        case "redis-flush-under-load": {
          // The leader is paused (within its lease) so that votes are queued, unwritten, when
          // the flush strikes: those are what a FLUSHALL really destroys.
          const victim = await leader();
          victim.signal("SIGSTOP");
          await sleep(leaseMs * 0.4);
          await control.flushall();
          phase.injections++;
          clearedAt = Date.now();
          victim.signal("SIGCONT");
          // Only votes queued before the flush can be destroyed by it (the server's clock, created_at).
          phase.byDesign = (v) => v.createdAt <= clearedAt;
          phase.note =
            "FLUSHALL while votes were queued: those not yet written are gone (by design)";
          break;
        }
        case "sqlite-locked": {
          const lock = await SqliteLock.take(databaseUrl);
          phase.injections++;
          await sleep(quick ? 1000 : 3000);
          await lock.release();
          clearedAt = Date.now();
          phase.note = "another process held BEGIN EXCLUSIVE; the writer retried";
          break;
        }
      }
      const earlier = [...phases, phase];
      phase.recoverMs = await recovered(injectedAt, clearedAt, (v) =>
        earlier.some((p) => p.byDesign?.(v) ?? false),
      );
      if (phase.recoverMs === undefined)
        problems.push(`${fault}: did not recover within ${recoverTimeoutMs / 1000} s`);
      await sleep(quick ? 300 : 1000);
      phase.end = Date.now();
      phase.refusedAfter = load.refused;
      phases.push(phase);
    }

    await load.stop();
    if (process.env.CHAOS_DEBUG)
      for (const w of writers) log(`${w.name}:\n${w.lines.map((l) => l.slice(0, 300)).join("\n")}`);
    log("load stopped; waiting for the queue to drain");
    // A fault destroys what is queued when it strikes, whichever phase accepted it.
    const excused = (v: AcceptedVote) => phases.some((p) => p.byDesign?.(v) ?? false);
    await waitFor(
      async () => (await missing(accepted.filter((v) => !excused(v)))).length === 0,
      recoverTimeoutMs,
      "the final drain",
    ).catch(() => problems.push("the queue did not drain after the load stopped"));

    // The checks: every 202 in SQLite exactly once with its option and created_at.
    const rows = new Map<number, { option: string; createdAt: number }>();
    for (const row of (await db.execute("SELECT id, option, created_at FROM votes")).rows) {
      rows.set(Number(row[0]), { option: String(row[1]), createdAt: Number(row[2]) });
    }
    const seen = new Map<number, number>();
    for (const v of accepted) seen.set(v.id, (seen.get(v.id) ?? 0) + 1);
    const results: PhaseResult[] = phases.map((phase) => ({
      fault: phase.fault,
      injections: phase.injections,
      accepted: 0,
      recorded: 0,
      lost: 0,
      lostByDesign: 0,
      duplicated: 0,
      refused: phase.refusedAfter - phase.refusedBefore,
      recoverMs: phase.recoverMs,
      note: phase.note,
    }));
    const steady: PhaseResult = {
      fault: "steady",
      injections: 0,
      accepted: 0,
      recorded: 0,
      lost: 0,
      lostByDesign: 0,
      duplicated: 0,
      refused: 0,
      recoverMs: undefined,
      note: "before the first fault",
    };
    for (const vote of accepted) {
      const phase = phaseOf(phases, vote);
      const result = phase ? (results[phases.indexOf(phase)] as PhaseResult) : steady;
      result.accepted++;
      const row = rows.get(vote.id);
      if ((seen.get(vote.id) ?? 0) > 1) result.duplicated++;
      else if (row && (row.option !== vote.option || row.createdAt !== vote.createdAt)) {
        result.duplicated++;
        problems.push(
          `vote ${vote.id}: SQLite has ${JSON.stringify(row)}, its 202 said ${vote.option} at ${vote.createdAt}`,
        );
      } else if (row) result.recorded++;
      else if (excused(vote)) result.lostByDesign++;
      else result.lost++;
    }
    const integrity = await db.execute(
      "SELECT (SELECT count(*) - count(DISTINCT id) FROM votes), (SELECT coalesce(sum(count), 0) FROM totals), (SELECT count(*) FROM votes)",
    );
    const counts = integrity.rows[0];
    const [dupRows, totalCount, voteCount] = [0, 1, 2].map((i) => Number(counts?.[i]));
    if (dupRows !== 0) problems.push(`SQLite holds ${dupRows} duplicate vote rows`);
    if (totalCount !== voteCount)
      problems.push(
        `the totals table counts ${totalCount} votes, the votes table holds ${voteCount}`,
      );
    const unacknowledged = [...rows.keys()].filter((id) => !seen.has(id)).length;

    // GET /votes equals SELECT option, count(*) FROM votes GROUP BY option.
    const expected: Record<string, number> = {};
    for (const row of (await db.execute("SELECT option, count(*) FROM votes GROUP BY option"))
      .rows) {
      expected[String(row[0])] = Number(row[1]);
    }
    let served: unknown;
    const totalsAgree = await waitFor(
      async () => {
        served = await (await fetch(`${url}/votes`)).json();
        return sameCounts(served as Record<string, number>, expected);
      },
      10_000,
      "",
    ).then(
      () => true,
      () => false,
    );
    if (!totalsAgree)
      problems.push(`GET /votes ${JSON.stringify(served)} != SQLite ${JSON.stringify(expected)}`);
    for (const answer of load.unexpected.slice(0, 5)) problems.push(`unexpected answer: ${answer}`);
    if (unacknowledged > 0) {
      log(
        `${unacknowledged} vote(s) are in SQLite although their client saw no 202 (a reply lost when Redis was killed): not a loss`,
      );
    }
    const all = [steady, ...results];
    for (const r of all) {
      if (r.lost > 0) problems.push(`${r.fault}: ${r.lost} accepted vote(s) lost`);
      if (r.duplicated > 0)
        problems.push(`${r.fault}: ${r.duplicated} vote(s) duplicated or changed`);
    }
    if (load.unexpected.some((a) => a.startsWith("5")))
      problems.push("the API answered a 5xx other than 503");
    control.disconnect();
    if (problems.length > 0) {
      problems.push(`503s by type: ${JSON.stringify(Object.fromEntries(load.refusedBy))}`);
      for (const p of processes)
        problems.push(`--- ${p.name} (last lines)\n${p.tail(quick ? 8 : 30)}`);
    }
    return {
      phases: all,
      totalAccepted: accepted.length,
      totalsAgree,
      problems,
      ok: problems.length === 0,
    };
  } catch (error) {
    problems.push(`the run failed: ${(error as Error).message}`);
    for (const p of processes) problems.push(`--- ${p.name} (last lines)\n${p.tail(10)}`);
    return {
      phases: [],
      totalAccepted: load?.accepted.length ?? 0,
      totalsAgree: false,
      problems,
      ok: false,
    };
  } finally {
    await load?.stop();
    await Promise.all(processes.map((p) => p.stop(5_000)));
    db?.close();
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function phaseOf(phases: Phase[], vote: AcceptedVote): Phase | undefined {
  return phases.find((p) => vote.acceptedAt >= p.start && vote.acceptedAt <= p.end);
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  detail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ""}`);
    await sleep(50);
  }
}

/** True when the sqlite3 CLI is installed (the sqlite-locked fault uses it). */
export function hasSqlite3(): boolean {
  try {
    execFileSync("sqlite3", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

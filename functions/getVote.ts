import { eq, sql } from "drizzle-orm";
import { type Database, openVoteLookup, type VoteLookup, type VoteRow } from "../lib/db.js";
import type { Deps } from "../lib/deps.js";
import { sharedDeps } from "../lib/deps.js";
import { type Handler, handle, lastPathSegment, lazy, voteBody } from "../lib/http.js";
import { HttpProblem, methodNotAllowed, notFound, unavailable } from "../lib/problem.js";
import { findQueued } from "../lib/queue.js";
import { votes } from "../lib/schema.js";
import { parseVoteId } from "../lib/validation.js";

/** `GET /votes/{id}`: the vote, `queued` while in the stream, `recorded` once in SQLite. */
export function makeGetVote(deps: Deps): Handler {
  const findRecorded = recordedVotes(deps);
  return handle(async (request, reply) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    const id = parseVoteId(lastPathSegment(request.url));
    // SQLite first: a vote found there is recorded, whatever the stream still holds, and most
    // lookups end here without a Redis round trip. One not found may be queued; one written in
    // the meantime left the stream only after its commit, so SQLite is asked again before a 404.
    let dbError: HttpProblem | undefined;
    const keep = (error: unknown): undefined => {
      if (!(error instanceof HttpProblem)) throw error;
      dbError = error;
      return undefined;
    };
    // A local file answers synchronously: that path awaits no promise of its own.
    const recorded = (): Found => {
      if (dbError) return undefined;
      try {
        const found = findRecorded(id);
        return found instanceof Promise ? found.catch(keep) : found;
      } catch (error) {
        return keep(error);
      }
    };
    const first = recorded();
    const row = first instanceof Promise ? await first : first;
    if (row) return reply.json(voteBody(row, "recorded"));
    let redisError: HttpProblem | undefined;
    try {
      const queued = await findQueued(deps, id);
      if (queued) return reply.json(voteBody(queued, "queued"));
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      redisError = error;
    }
    const written = await recorded();
    if (written) return reply.json(voteBody(written, "recorded"));
    if (dbError) throw dbError;
    // Without Redis, an id missing from SQLite may still be queued: that is not a 404.
    if (redisError) throw redisError;
    throw notFound(`There is no vote ${id}.`);
  });
}

type Found = VoteRow | undefined | Promise<VoteRow | undefined>;

const dbDown = (cause: unknown) =>
  unavailable("database-unavailable", "The vote store cannot be read; retry shortly.", 2, cause);

/**
 * The lookup of recorded votes: a local file's is synchronous (lib/db.ts, opened on first use;
 * not kept when opening fails, so the next request tries again); a remote database's goes
 * through the Drizzle client. A file or client that cannot be opened throws the contract's 503;
 * a failing query is a 500, as any unexpected error.
 */
function recordedVotes(deps: Deps): (id: number) => Found {
  let lookup: VoteLookup | null | undefined;
  return (id) => {
    if (lookup === undefined) {
      try {
        lookup = openVoteLookup(deps.config.database) ?? null;
      } catch (cause) {
        throw dbDown(cause);
      }
    }
    if (lookup) return lookup(id);
    return deps.db().then(
      (db) => byId(db).get({ id }),
      (cause) => {
        throw dbDown(cause);
      },
    );
  };
}

/** The lookup, built and prepared once per database client rather than once per request. */
const prepared = new WeakMap<Database, ReturnType<typeof prepare>>();
const prepare = (db: Database) =>
  db
    .select()
    .from(votes)
    .where(eq(votes.id, sql.placeholder("id")))
    .limit(1)
    .prepare();
function byId(db: Database) {
  let query = prepared.get(db);
  if (!query) {
    query = prepare(db);
    prepared.set(db, query);
  }
  return query;
}

export const getVote: Handler = lazy(sharedDeps, makeGetVote);

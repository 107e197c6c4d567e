import { eq, sql } from "drizzle-orm";
import { type Database, openVoteLookup, type VoteLookup, type VoteRow } from "../lib/db.js";
import type { Deps } from "../lib/deps.js";
import { sharedDeps } from "../lib/deps.js";
import { type Handler, handle, json, lastPathSegment, lazy, voteBody } from "../lib/http.js";
import { HttpProblem, methodNotAllowed, notFound, unavailable } from "../lib/problem.js";
import { findQueued } from "../lib/queue.js";
import { votes } from "../lib/schema.js";
import { parseVoteId } from "../lib/validation.js";

/** `GET /votes/{id}`: the vote, `queued` while in the stream, `recorded` once in SQLite. */
export function makeGetVote(deps: Deps): Handler {
  return handle(async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    const id = parseVoteId(lastPathSegment(request.url));
    // SQLite first: a vote found there is recorded, whatever the stream still holds, and most
    // lookups end here without a Redis round trip. One not found may be queued; one written in
    // the meantime left the stream only after its commit, so SQLite is asked again before a 404.
    let dbError: HttpProblem | undefined;
    const recorded = async () => {
      if (dbError) return undefined;
      try {
        return await findRecorded(deps, id);
      } catch (error) {
        if (!(error instanceof HttpProblem)) throw error;
        dbError = error;
        return undefined;
      }
    };
    const row = await recorded();
    if (row) return json(voteBody(row, "recorded"));
    let redisError: HttpProblem | undefined;
    try {
      const queued = await findQueued(deps, id);
      if (queued) return json(voteBody(queued, "queued"));
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      redisError = error;
    }
    const written = await recorded();
    if (written) return json(voteBody(written, "recorded"));
    if (dbError) throw dbError;
    // Without Redis, an id missing from SQLite may still be queued: that is not a 404.
    if (redisError) throw redisError;
    throw notFound(`There is no vote ${id}.`);
  });
}

const dbDown = (cause: unknown) =>
  unavailable("database-unavailable", "The vote store cannot be read; retry shortly.", 2, cause);

/** The local-file lookup of each Deps (null: remote database), opened on first use. */
const lookups = new WeakMap<Deps, VoteLookup | null>();

async function findRecorded(deps: Deps, id: number): Promise<VoteRow | undefined> {
  let lookup = lookups.get(deps);
  if (lookup === undefined) {
    try {
      lookup = openVoteLookup(deps.config.database) ?? null;
    } catch (cause) {
      // Not cached: the next request tries again.
      throw dbDown(cause);
    }
    lookups.set(deps, lookup);
  }
  if (lookup) return lookup(id);
  const db = await deps.db().catch((cause) => {
    throw dbDown(cause);
  });
  return byId(db).get({ id });
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

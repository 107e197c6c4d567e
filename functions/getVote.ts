import { eq, sql } from "drizzle-orm";
import type { Database } from "../lib/db.js";
import type { Deps } from "../lib/deps.js";
import { sharedDeps } from "../lib/deps.js";
import { type Handler, handle, json, lazy, voteBody } from "../lib/http.js";
import { HttpProblem, methodNotAllowed, notFound, unavailable } from "../lib/problem.js";
import { findQueued } from "../lib/queue.js";
import { votes } from "../lib/schema.js";
import { parseVoteId } from "../lib/validation.js";

/** `GET /votes/{id}`: the vote, `queued` while in the stream, `recorded` once in SQLite. */
export function makeGetVote(deps: Deps): Handler {
  return handle(async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    const segment = new URL(request.url).pathname.split("/").filter(Boolean).pop() ?? "";
    const id = parseVoteId(segment);
    // The stream first: a vote leaves it only after SQLite committed it, so it is never missed.
    let redisError: HttpProblem | undefined;
    try {
      const queued = await findQueued(deps, id);
      if (queued) return json(voteBody(queued, "queued"));
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      redisError = error;
    }
    const db = await deps.db().catch((cause) => {
      throw unavailable(
        "database-unavailable",
        "The vote store cannot be read; retry shortly.",
        2,
        cause,
      );
    });
    const row = await byId(db).get({ id });
    if (row) return json(voteBody(row, "recorded"));
    // Without Redis, an id missing from SQLite may still be queued: that is not a 404.
    if (redisError) throw redisError;
    throw notFound(`There is no vote ${id}.`);
  });
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

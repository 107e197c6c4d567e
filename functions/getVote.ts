import { eq } from "drizzle-orm";
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
    const [row] = await db.select().from(votes).where(eq(votes.id, id)).limit(1);
    if (row) return json(voteBody(row, "recorded"));
    // Without Redis, an id missing from SQLite may still be queued: that is not a 404.
    if (redisError) throw redisError;
    throw notFound(`There is no vote ${id}.`);
  });
}

export const getVote: Handler = lazy(sharedDeps, makeGetVote);

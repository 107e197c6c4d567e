import type { Deps } from "../lib/deps.js";
import { sharedDeps } from "../lib/deps.js";
import { type Handler, handle, lazy, voteBody } from "../lib/http.js";
import { methodNotAllowed } from "../lib/problem.js";
import { enqueueVote } from "../lib/queue.js";
import {
  parseVoteBody,
  readIdempotencyKey,
  readLimitedBody,
  requireJson,
} from "../lib/validation.js";

/** `POST /votes`: validate, queue in one Redis round trip, answer 202 with the vote's id. */
export function makeSubmitVote(deps: Deps): Handler {
  return handle(async (request, reply) => {
    if (request.method !== "POST") throw methodNotAllowed(["POST"]);
    requireJson(request);
    const idempotencyKey = readIdempotencyKey(request);
    const option = parseVoteBody(await readLimitedBody(request), deps.config.voteOptions);
    const vote = await enqueueVote(deps, option, idempotencyKey);
    return reply.json(voteBody(vote, "queued"), 202, {
      Location: `/votes/${vote.id}`,
      ...(vote.replay ? { "Idempotent-Replayed": "true" } : {}),
    });
  });
}

export const submitVote: Handler = lazy(sharedDeps, makeSubmitVote);

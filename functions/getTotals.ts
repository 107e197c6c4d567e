import type { Deps } from "../lib/deps.js";
import { sharedDeps } from "../lib/deps.js";
import { type Handler, handle, lazy } from "../lib/http.js";
import { methodNotAllowed } from "../lib/problem.js";
import { readTotals } from "../lib/totals.js";

/** `GET /votes`: the totals of the votes already written to SQLite. */
export function makeGetTotals(deps: Deps): Handler {
  return handle(async (request, reply) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
    const { totals, source } = await readTotals(deps);
    return reply.json(totals, 200, { "Cache-Control": "no-store", "X-Totals-Source": source });
  });
}

export const getTotals: Handler = lazy(sharedDeps, makeGetTotals);

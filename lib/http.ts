/**
 * Response helpers shared by the functions: JSON bodies, and the wrapper that turns anything a
 * handler throws into problem+json.
 */
import { problemResponse } from "./problem.js";
import type { Vote } from "./queue.js";

export type Handler = (request: Request) => Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** The vote as the API shows it. */
export function voteBody(vote: Vote, status: "queued" | "recorded") {
  return {
    id: vote.id,
    option: vote.option,
    created_at: new Date(vote.createdAt).toISOString(),
    status,
  };
}

/** Wraps a handler so that every thrown error is rendered by the one renderer. */
export function handle(
  work: (request: Request) => Promise<Response>,
  onError?: (error: unknown, request: Request) => void,
): Handler {
  return async (request) => {
    try {
      return await work(request);
    } catch (error) {
      onError?.(error, request);
      return problemResponse(error);
    }
  };
}

/** A handler built on first use from the process-wide dependencies. */
export function lazy<D>(deps: () => D, make: (deps: D) => Handler): Handler {
  let handler: Handler | undefined;
  return (request) => {
    try {
      handler ??= make(deps());
    } catch (error) {
      // Typically bad configuration: say so in the host's log, answer a bare 500.
      console.error(`cannot start the function: ${(error as Error).message}`);
      return Promise.resolve(problemResponse(error));
    }
    return handler(request);
  };
}

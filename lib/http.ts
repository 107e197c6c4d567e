/**
 * Response helpers shared by the functions: JSON bodies, and the wrapper that turns anything a
 * handler throws into problem+json.
 */
import { problemResponse } from "./problem.js";
import type { Vote } from "./queue.js";
import { REQUEST_ID_HEADER, requestIdFor } from "./requestId.js";

export type Handler = (request: Request) => Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

const PLAIN_PATH = /^[\w/-]*$/;

/**
 * The last non-empty segment of an absolute URL's path ("" when there is none), exactly as
 * `new URL(url).pathname.split("/").filter(Boolean).pop()` gives it, without parsing the URL
 * when the path holds only letters, digits, `_`, `-` and `/` (which the parser leaves as they
 * are): about 0.05 us instead of 0.45 per `GET /votes/{id}`.
 */
export function lastPathSegment(url: string): string {
  const scheme = url.indexOf("://");
  const afterHost = scheme < 0 ? 0 : scheme + 3;
  const start = url.indexOf("/", afterHost);
  let end = url.length;
  for (let i = afterHost; i < url.length; i++) {
    const char = url.charCodeAt(i);
    if (char === 0x3f || char === 0x23) {
      end = i; // ? or #
      break;
    }
  }
  if (start < 0 || start > end) return segmentByParsing(url);
  const path = url.slice(start, end);
  if (!PLAIN_PATH.test(path)) return segmentByParsing(url);
  let last = path.length;
  while (last > 0 && path.charCodeAt(last - 1) === 0x2f) last--;
  return path.slice(path.lastIndexOf("/", last - 1) + 1, last);
}

function segmentByParsing(url: string): string {
  return new URL(url).pathname.split("/").filter(Boolean).pop() ?? "";
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

/** The response helpers of one request: each response carries the request's `X-Request-Id`. */
export interface Reply {
  json(body: unknown, status?: number, headers?: Record<string, string>): Response;
}

/**
 * Wraps a handler: gives it the request's {@link Reply}, and renders every error it throws with
 * the one renderer. The request id goes into each response's headers when the response is
 * built: adding it afterwards (a Headers instance, or `setHeader` on Node's response) cost
 * about 3.5 us of a 35 us `GET /votes/{id}` on @hono/node-server.
 */
export function handle(
  work: (request: Request, reply: Reply) => Promise<Response>,
  onError?: (error: unknown, request: Request) => void,
): Handler {
  return async (request) => {
    const requestId = requestIdFor(request);
    const reply: Reply = {
      json: (body, status, headers) =>
        json(body, status, { ...headers, [REQUEST_ID_HEADER]: requestId }),
    };
    try {
      return await work(request, reply);
    } catch (error) {
      onError?.(error, request);
      return problemResponse(error, { [REQUEST_ID_HEADER]: requestId });
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
      return Promise.resolve(
        problemResponse(error, { [REQUEST_ID_HEADER]: requestIdFor(request) }),
      );
    }
    return handler(request);
  };
}

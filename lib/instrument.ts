/**
 * The API adapter's per-request instrumentation: a request id (the client's `X-Request-Id` when
 * sane, else a fresh UUID) echoed in the response and put on every log line of the request;
 * request durations per route; accepted and rejected votes by problem reason.
 *
 * It wraps each route's handler rather than being a Hono middleware: with a middleware, Hono
 * leaves its one-handler fast path for compose(), and an empty async middleware alone cost about
 * 5 us of a 20 us request (measured with the bench's bare server). The route label is the
 * pattern the handler was registered under, so a scan of unknown paths cannot grow the metric.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";
import type { Logger } from "./logger.js";
import { type ApiMetrics, reasonOfProblemType } from "./metrics.js";
import { problemResponse } from "./problem.js";
import type { Recorder } from "./requestDurations.js";
import { KNOWN_REQUEST_ID, requestIdOf } from "./requestId.js";

export type RouteHandler = (c: Context) => Response | Promise<Response>;

/**
 * Wraps a route's handler: `route("/votes/:id", handler)`; the label may depend on the request
 * (the not-found handler's).
 */
export type Instrument = (
  route: string | ((c: Context) => string),
  handler: RouteHandler,
  options?: RouteOptions,
) => RouteHandler;

export interface RouteOptions {
  /**
   * The handler puts `X-Request-Id` on its responses itself (the functions do, through
   * lib/http.ts `handle`); otherwise it is added here.
   */
  setsRequestId?: boolean;
}

export function createInstrument(metrics: ApiMetrics, log: Logger): Instrument {
  // Fixed for the life of the process: the logger's level is set once, from LOG_LEVEL.
  const debug = log.isLevelEnabled("debug");
  const finish = (
    c: Context,
    route: string,
    record: Recorder,
    setsRequestId: boolean,
    requestId: string,
    started: number,
    response: Response,
    /** The error behind this response was logged already (by `failed`). */
    logged = false,
  ): Response => {
    const seconds = (performance.now() - started) / 1000;
    const { status } = response;
    const answered = setsRequestId ? response : withRequestId(c, response, requestId);
    const method = c.req.method;
    record(method, status, seconds);
    if (method === "POST" && route === "/votes") {
      if (status === 202) metrics.voteAccepted();
      else
        void answered
          .clone()
          .json()
          .then(
            (body: { type?: unknown }) => metrics.voteRejected(reasonOfProblemType(body.type)),
            () => metrics.voteRejected("unknown"),
          );
    }
    if (status >= 500 && status !== 503) {
      if (!logged) log.error({ requestId, method, path: c.req.path, status }, "request failed");
    } else if (debug) {
      log.debug({ requestId, method, path: c.req.path, status, ms: seconds * 1000 }, "request");
    }
    return answered;
  };
  const failed = (error: unknown, requestId: string): Response => {
    log.error({ err: error, requestId }, "unhandled error in a route");
    return problemResponse(error);
  };

  return (route, handler, options = {}) => {
    const setsRequestId = options.setsRequestId === true;
    // A fixed label's recorder is found once, here; one that depends on the request, per request.
    const fixed = typeof route === "string" ? metrics.route(route) : undefined;
    return (c) => {
      const started = performance.now();
      const label = typeof route === "string" ? route : route(c);
      const record = fixed ?? metrics.route(label);
      const requestId = requestIdOf(requestIdHeader(c));
      // The function puts it on its responses, built with it (lib/http.ts).
      if (setsRequestId)
        (c.req.raw as { [KNOWN_REQUEST_ID]?: string })[KNOWN_REQUEST_ID] = requestId;
      // A handler that throws gets our problem response, which carries no request id yet.
      const onError = (error: unknown) =>
        finish(c, label, record, false, requestId, started, failed(error, requestId), true);
      let result: Response | Promise<Response>;
      try {
        result = handler(c);
      } catch (error) {
        return onError(error);
      }
      return result instanceof Promise
        ? result.then(
            (response) => finish(c, label, record, setsRequestId, requestId, started, response),
            onError,
          )
        : finish(c, label, record, setsRequestId, requestId, started, result);
    };
  };
}

/**
 * The request's `X-Request-Id`. Served by @hono/node-server, read from Node's raw header list:
 * `c.req.header()` would first build Node's header object and a Headers wrapper for it.
 */
function requestIdHeader(c: Context): string | undefined {
  const raw = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.rawHeaders;
  if (!Array.isArray(raw)) return c.req.header("x-request-id");
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 12 && name.toLowerCase() === "x-request-id") {
      // Repeated, joined the way Node and Headers join it (which then fails the sanity check).
      value = value === undefined ? raw[i + 1] : `${value}, ${raw[i + 1]}`;
    }
  }
  return value;
}

/**
 * Served by @hono/node-server, the Node response is in c.env.outgoing: a header set there is
 * merged into the answer by writeHead, without turning the response's plain header object into
 * a Headers instance first (measured: ~6 us of ~45 per POST /votes). Elsewhere (tests through
 * `app.request`), the header goes on the Response, copied once if its headers are immutable.
 */
function withRequestId(c: Context, response: Response, requestId: string): Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing && typeof outgoing.setHeader === "function" && !outgoing.headersSent) {
    outgoing.setHeader("X-Request-Id", requestId);
    return response;
  }
  try {
    response.headers.set("X-Request-Id", requestId);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set("X-Request-Id", requestId);
    return copy;
  }
}

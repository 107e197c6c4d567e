/**
 * The API adapter's per-request instrumentation (Hono middleware): a request id (the client's
 * `X-Request-Id` when sane, else a fresh UUID) echoed in the response and put on every log line
 * of the request; request durations per route; accepted and rejected votes by problem reason.
 * A few increments per request; the rejection reason is read from a clone of the (small) error
 * body off the response path.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "./logger.js";
import { type ApiMetrics, reasonOfProblemType } from "./metrics.js";

const SANE_ID = /^[\w.:@/+=-]{1,128}$/;

/** The client's request id if it is short and printable, else a new one. */
export function requestIdOf(header: string | undefined): string {
  return header !== undefined && SANE_ID.test(header) ? header : randomUUID();
}

export function instrumentRequests(metrics: ApiMetrics, log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header("x-request-id"));
    await next();
    const seconds = (performance.now() - started) / 1000;
    const { status } = c.res;
    // Unmatched paths share one label, so a scan cannot grow the metric without bound.
    const route = status === 404 && c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    // Served by @hono/node-server, the Node response is in c.env.outgoing: a header set there is
    // merged into the answer by writeHead, without turning the response's plain header object
    // into a Headers instance first (measured: ~6 us of ~45 per POST /votes).
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing && typeof outgoing.setHeader === "function" && !outgoing.headersSent) {
      outgoing.setHeader("X-Request-Id", requestId);
    } else {
      try {
        c.res.headers.set("X-Request-Id", requestId);
      } catch {
        // A response with immutable headers (e.g. from fetch): copy it once.
        c.res = new Response(c.res.body, c.res);
        c.res.headers.set("X-Request-Id", requestId);
      }
    }
    metrics.observeRequest(c.req.method, route, status, seconds);
    if (c.req.method === "POST" && route === "/votes") {
      if (status === 202) metrics.voteAccepted();
      else
        void c.res
          .clone()
          .json()
          .then(
            (body: { type?: unknown }) => metrics.voteRejected(reasonOfProblemType(body.type)),
            () => metrics.voteRejected("unknown"),
          );
    }
    if (c.error) {
      log.error({ err: c.error, requestId }, "unhandled error in a route");
    } else if (status >= 500 && status !== 503) {
      log.error({ requestId, method: c.req.method, path: c.req.path, status }, "request failed");
    } else if (log.isLevelEnabled("debug")) {
      log.debug(
        { requestId, method: c.req.method, path: c.req.path, status, ms: seconds * 1000 },
        "request",
      );
    }
  };
}

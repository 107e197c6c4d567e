/**
 * `npm run local`: serves the functions over HTTP with Hono, as a FaaS host would, plus
 * `/healthz`, `/readyz` and `/metrics`. Routing, 404 and 405 only; the functions do the work.
 * Every route's handler is wrapped to give the request an `X-Request-Id` and count and time it
 * (lib/instrument.ts).
 */

import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { makeGetTotals } from "./functions/getTotals.js";
import { makeGetVote } from "./functions/getVote.js";
import { makeSubmitVote } from "./functions/submitVote.js";
import { docsAsset, docsPage } from "./lib/apiDocs.js";
import { runClustered } from "./lib/cluster.js";
import { type Config, loadConfigOrExit } from "./lib/config.js";
import { createDeps, type Deps } from "./lib/deps.js";
import { json } from "./lib/http.js";
import { createInstrument } from "./lib/instrument.js";
import { createLogger } from "./lib/logger.js";
import { createApiMetrics, METRICS_CONTENT_TYPE } from "./lib/metrics.js";
import { buildOpenApi } from "./lib/openapi.js";
import { HttpProblem, methodNotAllowed, notFound, problemResponse } from "./lib/problem.js";
import { checkReadiness } from "./lib/readiness.js";
import { REQUEST_ID_HEADER, requestIdOf } from "./lib/requestId.js";

/** The functions put `X-Request-Id` on their responses themselves (lib/http.ts `handle`). */
const FUNCTION = { setsRequestId: true };

export function createApp(deps: Deps): Hono {
  const submitVote = makeSubmitVote(deps);
  const getTotals = makeGetTotals(deps);
  const getVote = makeGetVote(deps);
  const metrics = createApiMetrics(deps.redis, deps.keys);
  const route = createInstrument(metrics, deps.log);
  const app = new Hono();

  app.post(
    "/votes",
    route("/votes", (c) => submitVote(c.req.raw), FUNCTION),
  );
  app.get(
    "/votes",
    route("/votes", (c) => getTotals(c.req.raw), FUNCTION),
  );
  app.get(
    "/votes/:id",
    route("/votes/:id", (c) => getVote(c.req.raw), FUNCTION),
  );

  app.get(
    "/healthz",
    route("/healthz", () => json({ status: "ok" })),
  );
  app.get(
    "/openapi.json",
    route("/openapi.json", () => json(buildOpenApi({ voteOptions: deps.config.voteOptions }))),
  );
  app.get("/docs", route("/docs", docsPage));
  app.get(
    "/docs/:asset",
    route("/docs/:asset", (c) => docsAsset(c.req.param("asset") ?? "")),
  );
  app.get(
    "/metrics",
    route(
      "/metrics",
      async () =>
        new Response(await metrics.render(), {
          headers: { "Content-Type": METRICS_CONTENT_TYPE },
        }),
    ),
  );
  app.get(
    "/readyz",
    route("/readyz", async () => {
      const { ready, checks } = await checkReadiness(deps);
      if (ready) return json({ status: "ready", checks });
      const missing = Object.entries(checks)
        .filter(([, result]) => result !== "ok")
        .map(([name, result]) => `${name}: ${result}`)
        .join("; ");
      const response = problemResponse(
        new HttpProblem(503, `Not ready: ${missing}`, {
          reason: "not-ready",
          headers: { "Retry-After": "1" },
        }),
      );
      return new Response(JSON.stringify({ ...(await response.json()), checks }), response);
    }),
  );

  // A wrong method on a known path is a 405, answered here rather than by an `app.all` route:
  // a second handler on the same path would take every request off Hono's one-handler fast path.
  // Unmatched paths share one label, so a scan cannot grow the metric without bound.
  app.notFound(
    route(
      (c) => knownPath(c.req.path)?.route ?? "unmatched",
      (c) => {
        const known = knownPath(c.req.path);
        return problemResponse(
          known
            ? methodNotAllowed(known.allow)
            : notFound(`There is no route here; see GET /votes.`),
        );
      },
    ),
  );
  // Routes catch and log their own errors (lib/instrument.ts); this is the last resort.
  app.onError((error, c) => {
    const requestId = requestIdOf(c.req.header("x-request-id"));
    deps.log.error({ err: error, requestId }, "unhandled error outside a route");
    return problemResponse(error, { [REQUEST_ID_HEADER]: requestId });
  });
  return app;
}

/** The vote routes a wrong method can reach, with the methods they allow. */
function knownPath(path: string): { route: string; allow: string[] } | undefined {
  if (path === "/votes") return { route: "/votes", allow: ["GET", "POST"] };
  if (/^\/votes\/[^/]+$/.test(path)) return { route: "/votes/:id", allow: ["GET"] };
  return undefined;
}

/**
 * Slow clients are cut off (408): the headers must arrive within 10 s and the whole request (a
 * vote is at most 1 KiB) within 15 s; Node checks every second, not every 30 s (its default).
 */
export const SERVER_TIMEOUTS = { headersMs: 10_000, requestMs: 15_000, checkEveryMs: 1_000 };

/** Starts the HTTP server; resolves once it listens. */
export function startServer(deps: Deps, timeouts = SERVER_TIMEOUTS) {
  const app = createApp(deps);
  const server = serve({
    fetch: app.fetch,
    port: deps.config.port,
    hostname: deps.config.host,
    serverOptions: {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
  });
  return server;
}

/** One API process: serves until SIGINT/SIGTERM. */
function serveOne(config: Config): void {
  const deps = createDeps(config);
  const server = startServer(deps);
  server.on("error", (error: NodeJS.ErrnoException) => {
    const why =
      error.code === "EADDRINUSE"
        ? `port ${config.port} on ${config.host} is already in use: stop the other server or set PORT`
        : error.message;
    process.stderr.write(`cannot start the API: ${why}\n`);
    process.exit(1);
  });
  server.on("listening", () => {
    deps.log.info({ url: `http://${config.host}:${config.port}` }, "API listening");
  });
  // Stop taking connections, let requests in flight finish (at most 5 s), then close clients.
  const stop = () => {
    const done = () => void deps.close().then(() => process.exit(0));
    server.close(done);
    setTimeout(done, 5000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const config = loadConfigOrExit();
  // WEB_CONCURRENCY > 1: that many processes share the port (node:cluster), one per core.
  runClustered(config.webConcurrency, () => serveOne(config), createLogger(config.log, "api"));
}

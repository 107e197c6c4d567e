/**
 * `npm run writer`: the one long-lived writer process. Refuses to start while migrations are
 * pending; SIGINT/SIGTERM finish the batch in hand, release the lease and exit 0. Serves its
 * metrics on WRITER_METRICS_PORT (0: none); a port already taken (say, by a standby's twin on
 * the same host) only costs this process its metrics.
 */
import { loadConfigOrExit } from "../lib/config.js";
import { openWriterClient } from "../lib/db.js";
import { keysFor } from "../lib/keys.js";
import { createLogger } from "../lib/logger.js";
import { createWriterMetrics } from "../lib/metrics.js";
import { serveMetrics } from "../lib/metricsServer.js";
import { migrationState } from "../lib/migrations.js";
import { connectRedis } from "../lib/redis.js";
import { Writer } from "./writer.js";

const config = loadConfigOrExit();
const log = createLogger(config.log, "writer");

let db: Awaited<ReturnType<typeof openWriterClient>>;
try {
  db = await openWriterClient(config.database);
  const { pending, skipped } = await migrationState(db);
  if (pending.length > 0) {
    log.fatal(
      { pending: pending.map((m) => m.tag) },
      `the database has ${pending.length} pending migration(s): run \`npm run db:migrate\` first`,
    );
    process.exit(1);
  }
  if (skipped.length > 0) {
    log.fatal(
      { skipped: skipped.map((m) => m.tag) },
      "some migrations are older than the newest applied one and Drizzle will never apply them: see `npm run db:status`",
    );
    process.exit(1);
  }
} catch (error) {
  log.fatal(
    { err: error },
    `cannot open the database at ${config.database.url}: ${(error as Error).message}`,
  );
  process.exit(1);
}

const redis = connectRedis(config.redis, "writer");
const blocking = connectRedis(config.redis, "writer-blocking", {
  // A read hears nothing for up to WRITER_BLOCK_MS; past that plus the timeout, the flow is dead.
  socketTimeout: config.writer.blockMs + config.redis.timeoutMs,
});
const metrics = createWriterMetrics(() => redis, keysFor(config.redis.prefix));
const writer = new Writer({ config, log, db, redis, blocking, hooks: metrics });
const { metricsPort } = config.writer;
const metricsServer =
  metricsPort === 0
    ? undefined
    : await serveMetrics(metrics.render, metricsPort, config.host).catch(
        (error: NodeJS.ErrnoException) => {
          log.warn(
            `WRITER_METRICS_PORT ${metricsPort} on ${config.host}: ${error.code === "EADDRINUSE" ? "already in use" : error.message}; this writer serves no metrics`,
          );
          return undefined;
        },
      );

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping: finishing the batch in hand");
  metricsServer?.close();
  void writer.close().then(() => {
    db.close();
    log.info("stopped");
    process.exit(0);
  });
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

log.info({ redis: redactUrl(config.redis.url), database: config.database.url }, "writer starting");
await writer.start();

function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

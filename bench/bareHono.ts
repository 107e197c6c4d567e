/**
 * Bench: the HTTP ceiling. The same three routes as the API, served the same way (Hono on
 * @hono/node-server, WEB_CONCURRENCY processes through lib/cluster.ts), answering constant bodies
 * without touching Redis or SQLite. POST reads and parses the body like the real handler does.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { runClustered } from "../lib/cluster.js";
import { loadConfigOrExit } from "../lib/config.js";
import { createLogger } from "../lib/logger.js";

const config = loadConfigOrExit();
const log = createLogger(config.log, "bare");

runClustered(
  config.webConcurrency,
  () => {
    const app = new Hono();
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      });
    app.post("/votes", async (c) => {
      const { option } = (await c.req.raw.json()) as { option: string };
      return json({ id: 1, option, created_at: new Date().toISOString(), status: "queued" }, 202);
    });
    app.get("/votes", () => json({ option1: 42, option2: 28 }));
    app.get("/votes/:id", (c) =>
      json({
        id: Number(c.req.param("id")),
        option: "option1",
        created_at: new Date().toISOString(),
        status: "recorded",
      }),
    );
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
    server.on("listening", () => log.info({ port: config.port }, "bare Hono listening"));
    const stop = () => process.exit(0);
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  },
  log,
);

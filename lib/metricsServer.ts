/**
 * A minimal HTTP server for a process that has no API of its own (the writer): `GET /metrics`
 * in Prometheus text, `GET /healthz`, 404 for anything else.
 */
import { createServer, type Server } from "node:http";
import { METRICS_CONTENT_TYPE } from "./metrics.js";

/** Listens on `port` (0 is not allowed here: callers skip the server when disabled). */
export function serveMetrics(render: () => Promise<string>, port: number, host: string) {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/metrics") {
      render().then(
        (text) => {
          response.writeHead(200, { "Content-Type": METRICS_CONTENT_TYPE });
          response.end(text);
        },
        () => {
          response.writeHead(500).end();
        },
      );
    } else if (request.method === "GET" && path === "/healthz") {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end('{"status":"ok"}');
    } else {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("see GET /metrics\n");
    }
  });
  return new Promise<Server>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

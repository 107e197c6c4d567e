import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createInstrument } from "./instrument.js";
import type { ApiMetrics } from "./metrics.js";
import { RequestDurations } from "./requestDurations.js";

/** An instrument with a logger that keeps its lines, and the durations it records. */
function setup() {
  const lines: { msg: string; requestId?: string }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const durations = new RequestDurations("d", "h", [1]);
  const metrics = {
    route: (route: string) => durations.route(route),
    voteAccepted: () => {},
    voteRejected: () => {},
  } as unknown as ApiMetrics;
  return { lines, durations, route: createInstrument(metrics, log) };
}

describe("createInstrument", () => {
  it.each([
    [
      "throws",
      () => {
        throw new Error("boom");
      },
    ],
    [
      "rejects",
      async () => {
        throw new Error("boom");
      },
    ],
  ])(
    "a function route whose handler %s answers 500 with the request id, logged once",
    async (_, fail) => {
      const { lines, durations, route } = setup();
      const app = new Hono();
      app.get("/x", route("/x", fail, { setsRequestId: true }));
      const response = await app.request("/x", { headers: { "X-Request-Id": "req-1" } });
      expect(response.status).toBe(500);
      expect(response.headers.get("x-request-id")).toBe("req-1");
      expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
        ["unhandled error in a route", "req-1"],
      ]);
      expect(durations.render()).toContain('d_count{method="GET",route="/x",status="500"} 1');
    },
  );

  it("adds the request id to the answers of routes that do not set it", async () => {
    const { route } = setup();
    const app = new Hono();
    app.get(
      "/y",
      route("/y", () => new Response("ok")),
    );
    const echoed = await app.request("/y", { headers: { "X-Request-Id": "abc" } });
    expect(echoed.headers.get("x-request-id")).toBe("abc");
    const fresh = await app.request("/y");
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

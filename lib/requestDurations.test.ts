import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestDurations } from "./requestDurations.js";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const series = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .sort();

describe("RequestDurations", () => {
  it("renders what prom-client renders for the same observations", async () => {
    const observation = fc.record({
      method: fc.constantFrom("GET", "POST", "HEAD", "DELETE"),
      route: fc.constantFrom("/votes", "/votes/:id", "unmatched", 'we"ird\\route'),
      status: fc.constantFrom(200, 202, 404, 503),
      // Bucket bounds themselves included: a value equal to a bound counts in that bucket.
      seconds: fc.oneof(
        fc.constantFrom(...BUCKETS, 0, 7),
        fc.double({ min: 0, max: 10, noNaN: true }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const registry = new Registry();
        const reference = new Histogram({
          name: "http_request_duration_seconds",
          help: "h",
          labelNames: ["method", "route", "status"] as const,
          buckets: BUCKETS,
          registers: [registry],
        });
        const ours = new RequestDurations("http_request_duration_seconds", "h", BUCKETS);
        for (const { method, route, status, seconds } of observations) {
          reference.labels(method, route, String(status)).observe(seconds);
          ours.route(route)(method, status, seconds);
        }
        expect(series(ours.render())).toEqual(series(await registry.metrics()));
      }),
      { numRuns: 200 },
    );
  });

  it("gives the same recorder for the same route", () => {
    const durations = new RequestDurations("d", "h", BUCKETS);
    expect(durations.route("/votes")).toBe(durations.route("/votes"));
  });
});

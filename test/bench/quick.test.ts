/**
 * `npm run bench -- --quick` completes and writes a results file with every figure. Nothing is
 * asserted about speed (that is what the full bench and the README's Performance section are for).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RESULTS = join(ROOT, "bench", "results");

it("bench --quick runs every phase and saves every figure", { timeout: 240_000 }, async () => {
  const before = new Set(readdirSync(RESULTS));
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick"], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d) => output.push(String(d)));
    child.stderr.on("data", (d) => output.push(String(d)));
    child.on("exit", resolve);
  });
  expect(code, output.join("")).toBe(0);
  // The file this run wrote (another run, e.g. a concurrent npm test, may write its own).
  const file = /raw results: (\S+\.json)/.exec(output.join(""))?.[1];
  expect(file, output.join("")).toBeDefined();
  expect(before.has(basename(file as string))).toBe(false);
  expect(dirname(file as string)).toBe(RESULTS);
  const results = JSON.parse(readFileSync(file as string, "utf8"));
  const load = expect.objectContaining({
    rps: expect.any(Number),
    p50Ms: expect.any(Number),
    p99Ms: expect.any(Number),
    errors: expect.any(Number),
  });
  for (const key of ["bareTotals", "totals", "barePost", "post", "bareVote", "vote"]) {
    expect(results.http[key], key).toEqual(load);
    // CPU per request of the server's processes: positive, and below a whole second.
    expect(results.http[key].cpuUsPerRequest, key).toBeGreaterThan(0);
    expect(results.http[key].cpuUsPerRequest, key).toBeLessThan(1e6);
  }
  expect(results.redisCeiling.rate).toBeGreaterThan(0);
  expect(results.sqliteCeiling.rate).toBeGreaterThan(0);
  for (const drain of [results.drain.empty, results.drain.big]) {
    expect(drain.votes).toBeGreaterThan(0);
    expect(drain.rate).toBeGreaterThan(0);
  }
  expect(results.getVoteBig).toEqual(load);
  expect(results.getVoteSmall).toEqual(load);
  expect(results.underLoad).toEqual(
    expect.objectContaining({
      post: load,
      lagP50Ms: expect.any(Number),
      lagP99Ms: expect.any(Number),
      lagMaxMs: expect.any(Number),
      queueGrew: expect.any(Boolean),
    }),
  );
  expect(results.aof.everysec).toEqual(load);
  expect(results.aof.always).toEqual(load);
  expect(results.memoryReducer.flagOn).toEqual(load);
  expect(results.memoryReducer.flagOff).toEqual(load);
  expect(results.rss.apiMaxPerProcessMb).toBeGreaterThan(0);
  expect(results.rss.writerMaxMb).toBeGreaterThan(0);
  expect(results.table).toContain("POST /votes");
});

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/fixtures.js";
import { freePort } from "../support/redisServer.js";
import { runScript } from "./run.js";

// `npm run up/status/down` as a user runs them, on a temp run dir (PM2 home, logs, Redis data)
// and free ports, so neither the project's nor the user's PM2 or Redis is touched.
let dir: string;
let env: NodeJS.ProcessEnv;
let apiPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "votes-ops-pm2-"));
  apiPort = await freePort();
  env = {
    ...process.env,
    VOTES_RUN_DIR: dir,
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_PREFIX: "ops",
    PORT: String(apiPort),
    WRITER_METRICS_PORT: String(await freePort()),
    DATABASE_URL: `file:${join(dir, "votes.db")}`,
    WRITER_LEASE_MS: "1000",
    LOG_LEVEL: "warn",
  };
});

afterAll(async () => {
  await runScript("scripts/down.ts", [], env);
  rmSync(dir, { recursive: true, force: true });
});

const run = (script: string, extra: NodeJS.ProcessEnv = {}) =>
  runScript(`scripts/${script}.ts`, [], { ...env, ...extra });

interface Row {
  name: string;
  state: string;
  pid: number;
  restarts: number;
}

async function status(): Promise<Row[]> {
  const { stdout, code } = await run("status");
  expect(code).toBe(0);
  const lines = stdout.trim().split("\n");
  if (lines[0]?.startsWith("nothing is running")) return [];
  expect(lines[0]).toMatch(/^name\s+state\s+pid\s+uptime\s+restarts$/);
  return lines.slice(1).map((line) => {
    const [name = "", state = "", pid = "", , restarts = ""] = line.split(/\s{2,}/);
    return { name, state, pid: Number(pid), restarts: Number(restarts) };
  });
}

describe("npm run up / status / down under the project's own PM2", () => {
  it("starts redis, api and writer; restarts a killed writer; stops them all", async () => {
    expect(await status()).toEqual([]);
    const up = await run("up");
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`ready: API http://127.0.0.1:${apiPort}`);

    const running = await status();
    expect(running.map((r) => [r.name, r.state, r.restarts])).toEqual([
      ["redis", "online", 0],
      ["api", "online", 0],
      ["writer", "online", 0],
    ]);
    expect(readdirSync(join(dir, "logs")).sort()).toEqual(["api.log", "redis.log", "writer.log"]);
    expect(readdirSync(join(dir, "data", "redis"))).toContain("appendonlydir");

    const again = await run("up");
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toMatch(
      /^already running: redis \(pid \d+\), api \(pid \d+\), writer \(pid \d+\);/,
    );

    const writer = running.find((r) => r.name === "writer");
    process.kill(writer?.pid ?? 0, "SIGKILL");
    let restarted: Row | undefined;
    await eventually(
      async () => {
        restarted = (await status()).find((r) => r.name === "writer");
        return restarted?.state === "online" && restarted.restarts === 1;
      },
      15_000,
      "the writer restarted",
    );
    expect(restarted?.pid).not.toBe(writer?.pid);
    const response = await fetch(`http://127.0.0.1:${apiPort}/votes`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"option":"pm2"}',
    });
    expect(response.status).toBe(202);

    const down = await run("down");
    expect(down.stdout.trim()).toBe("stopped api, writer, redis");
    expect(await status()).toEqual([]);
    const twice = await run("down");
    expect([twice.code, twice.stdout, twice.stderr]).toEqual([0, "nothing is running\n", ""]);
  });

  it("refuses, in one line, to start when the API port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(apiPort, "127.0.0.1", resolve));
    try {
      const up = await run("up");
      expect(up.code).toBe(1);
      expect(up.stderr).toBe(
        `PORT ${apiPort} on 127.0.0.1 is already in use: stop what listens there or set PORT\n`,
      );
      expect(await status()).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

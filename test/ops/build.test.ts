import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../lib/config.js";
import { childEnv, eventually, testConfig } from "../support/fixtures.js";
import { freePort, RedisServer } from "../support/redisServer.js";
import { ROOT, runScript } from "./run.js";

// npm run build into a temp dir (node_modules linked, package.json for "type": "module"), then
// the built API, writer and migrator run with plain node: no tsx anywhere.
let dir: string;
let redis: RedisServer;
let config: Config;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "votes-ops-build-"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  copyFileSync(join(ROOT, "package.json"), join(dir, "package.json"));
  redis = await new RedisServer().start();
  config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: `file:${join(dir, "votes.db")}` });
});

afterAll(async () => {
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(
    children.map((c) => c.exitCode === null && new Promise((r) => c.once("exit", r))),
  );
  await redis?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function node(
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<number | null> & { child: ChildProcess } {
  const child = spawn(process.execPath, [join(dir, "dist", file)], {
    cwd: dir,
    env,
    stdio: "ignore",
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return Object.assign(exited, { child });
}

describe("npm run build", () => {
  it("emits JavaScript that node runs without tsx: migrator, API and writer", async () => {
    const build = await runScript(
      "scripts/build.ts",
      ["--out-dir", join(dir, "dist")],
      process.env,
    );
    expect(build.stderr).toBe("");
    expect(build.code).toBe(0);
    for (const file of [
      "local.js",
      "writer/main.js",
      "lib/lua/submit.lua",
      "migrations/meta/_journal.json",
    ]) {
      expect(existsSync(join(dir, "dist", file)), file).toBe(true);
    }
    expect(existsSync(join(dir, "dist", "test"))).toBe(false);

    const env = childEnv(config, { PORT: String(await freePort()), WRITER_METRICS_PORT: "0" });
    expect(await node("scripts/db-migrate.js", env)).toBe(0);
    node("writer/main.js", env);
    node("local.js", env);
    const base = `http://127.0.0.1:${env.PORT}`;
    await eventually(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      15_000,
      "the built API ready",
    );
    const vote = await fetch(`${base}/votes`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"option":"built"}',
    });
    expect(vote.status).toBe(202);
    await eventually(async () => (await (await fetch(`${base}/votes`)).json()).built === 1);
  });
});

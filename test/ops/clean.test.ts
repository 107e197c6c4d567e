import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "./run.js";

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "votes-ops-clean-"));
  env = {
    ...process.env,
    VOTES_RUN_DIR: dir,
    DATABASE_URL: `file:${join(dir, "data", "votes.db")}`,
  };
  for (const path of ["logs", ".pm2/pids", "dist/lib", "data/redis"])
    mkdirSync(join(dir, path), { recursive: true });
  writeFileSync(join(dir, "logs", "api.log"), "x\n");
  writeFileSync(join(dir, ".pm2", "pids", "api-0.pid"), "1\n");
  writeFileSync(join(dir, "dist", "local.js"), "\n");
  writeFileSync(join(dir, "data", "votes.db"), "");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run clean", () => {
  it("removes logs, pid files and the build, keeps the data; --all removes the data too", async () => {
    const clean = await runScript("scripts/clean.ts", [], env);
    expect(clean.code).toBe(0);
    for (const path of ["logs", ".pm2", "dist"])
      expect(existsSync(join(dir, path)), path).toBe(false);
    expect(existsSync(join(dir, "data", "votes.db"))).toBe(true);
    expect(clean.stdout).toContain("kept data/");

    expect((await runScript("scripts/clean.ts", [], env)).stdout).toContain("nothing to clean");
    const all = await runScript("scripts/clean.ts", ["--all"], env);
    expect(all.code).toBe(0);
    expect(existsSync(join(dir, "data"))).toBe(false);
  });
});

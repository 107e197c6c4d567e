import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/redisServer.js";
import { runScript } from "./run.js";

// Bad configuration through the real entry points: one line on stderr naming the variable,
// no stack trace, a non-zero exit code, before any connection is attempted.
const base = {
  ...process.env,
  LOG_LEVEL: "silent",
  REDIS_URL: "redis://127.0.0.1:1",
  WRITER_METRICS_PORT: "0",
};

const cases: [string, Record<string, string>, RegExp][] = [
  [
    "REDIS_URL",
    { REDIS_URL: "http://localhost:6379" },
    /^configuration error: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
  ],
  [
    "DATABASE_URL",
    { DATABASE_URL: "postgres://db/votes" },
    /^configuration error: DATABASE_URL must be a libSQL URL/,
  ],
  [
    "WRITER_BATCH_SIZE",
    { WRITER_BATCH_SIZE: "-5" },
    /^configuration error: WRITER_BATCH_SIZE must be at least 1 \(got "-5"\)$/,
  ],
  [
    "LOG_LEVEL",
    { LOG_LEVEL: "loud" },
    /^configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/,
  ],
  ["PORT", { PORT: "http" }, /^configuration error: PORT must be a number \(got "http"\)$/],
];

function expectOneLine(
  result: { code: number | null; stdout: string; stderr: string },
  line: RegExp,
) {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe("configuration errors at the entry points", () => {
  for (const entry of ["local.ts", "writer/main.ts", "scripts/db-migrate.ts", "scripts/up.ts"]) {
    it.concurrent(`${entry}: one line per bad variable`, async () => {
      // Every case on the API; fewer on the others (they share loadConfigOrExit).
      const some =
        { "local.ts": cases, "writer/main.ts": cases.slice(1, 4) }[entry] ?? cases.slice(2, 3);
      for (const [, env, line] of some) {
        expectOneLine(await runScript(entry, [], { ...base, ...env }), line);
      }
    });
  }

  it("local.ts: a taken port is one line naming PORT", async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const result = await runScript("local.ts", [], { ...base, PORT: String(port) });
      expectOneLine(result, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*PORT`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

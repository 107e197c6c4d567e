import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runScript } from "./run.js";

// A temp copy of the project (sources and migrations; node_modules linked), so generating a
// migration never touches the real migrations folder.
let copy: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), "votes-ops-project-"));
  for (const path of [
    "lib",
    "scripts",
    "migrations",
    "drizzle.config.ts",
    "package.json",
    "tsconfig.json",
  ]) {
    cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  env = {
    ...process.env,
    DATABASE_URL: `file:${join(copy, "data", "votes.db")}`,
    LOG_LEVEL: "silent",
  };
});

afterAll(() => rmSync(copy, { recursive: true, force: true }));

const run = (script: string, ...args: string[]) =>
  runScript(`scripts/${script}.ts`, args, env, copy);
const journal = () =>
  JSON.parse(readFileSync(join(copy, "migrations", "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };

describe("db:generate, and what db:rollback and db:check make of its output", () => {
  it("refuses without a name", async () => {
    const result = await run("db-generate");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^usage: npm run db:generate -- --name <name>/);
  });

  it("generates a migration from a schema change, with an empty down file", async () => {
    appendFileSync(
      join(copy, "lib", "schema.ts"),
      '\nexport const polls = sqliteTable("polls", { id: integer("id").primaryKey(), title: text("title").notNull() });\n',
    );
    const result = await run("db-generate", "--name", "add_polls");
    expect(result.code, result.stderr).toBe(0);
    const entries = journal().entries;
    const tag = entries.at(-1)?.tag ?? "";
    expect(tag).toMatch(/^0002_add_polls$/);
    expect(readFileSync(join(copy, "migrations", `${tag}.sql`), "utf8")).toContain(
      "CREATE TABLE `polls`",
    );
    expect(existsSync(join(copy, "migrations", "down", `${tag}.sql`))).toBe(true);
    expect(result.stdout).toContain(`created migrations/${tag}.sql and migrations/down/${tag}.sql`);

    // Applied, it cannot be rolled back until its down file says how.
    expect((await run("db-migrate")).code).toBe(0);
    const empty = await run("db-rollback");
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe(
      `cannot roll back ${tag}: ${join(copy, "migrations", "down", `${tag}.sql`)} has no statements yet\n`,
    );
    rmSync(join(copy, "migrations", "down", `${tag}.sql`));
    const missing = await run("db-rollback");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      new RegExp(`^cannot roll back ${tag}: there is no down file .*\\n$`),
    );
    expect((await run("db-status")).stdout).toContain(`version ${tag}`);

    writeFileSync(join(copy, "migrations", "down", `${tag}.sql`), "DROP TABLE `polls`;\n");
    const rolled = await run("db-rollback");
    expect(rolled.stdout).toContain(`rolled back ${tag}; version is now 0001_writer_fence_trigger`);
  });

  it("db:check passes on an ordered journal and fails when a `when` goes backwards", async () => {
    expect((await run("db-check")).code).toBe(0);
    const path = join(copy, "migrations", "meta", "_journal.json");
    const original = readFileSync(path, "utf8");
    const bad = journal();
    const [previous, last] = [bad.entries.at(-2), bad.entries.at(-1)];
    if (!previous || !last) throw new Error("the journal needs two entries");
    last.when = previous.when - 1;
    writeFileSync(path, JSON.stringify(bad));
    const result = await run("db-check");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${last.tag}: journal "when" ${last.when} is not later than ${previous.tag}'s`,
    );
    writeFileSync(path, original);
  });
});

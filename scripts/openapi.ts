/**
 * `npm run openapi`: writes openapi.json from the zod schemas (lib/openapi.ts), formatted by
 * Biome like every other file. `npm run openapi -- --check` exits 1 when the committed file does
 * not describe what the schemas say (test/deploy/openapi.test.ts checks the same).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiIsCurrent, openApiText } from "../lib/openapi.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const file = fileURLToPath(new URL("../openapi.json", import.meta.url));

if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (!openApiIsCurrent(current)) {
    process.stderr.write("openapi.json is not current: run `npm run openapi` and commit it\n");
    process.exit(1);
  }
  process.stdout.write("openapi.json is current\n");
} else {
  writeFileSync(file, openApiText());
  spawnSync(`${root}node_modules/.bin/biome`, ["format", "--write", file], { stdio: "ignore" });
  process.stdout.write(`wrote ${file}\n`);
}

/**
 * `npm run openapi`: writes openapi.json from the zod schemas (lib/openapi.ts).
 * `npm run openapi -- --check` exits 1 when the committed file is not current.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiText } from "../lib/openapi.js";

const file = fileURLToPath(new URL("../openapi.json", import.meta.url));
const wanted = openApiText();
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  if (current !== wanted) {
    process.stderr.write("openapi.json is not current: run `npm run openapi` and commit it\n");
    process.exit(1);
  }
  process.stdout.write("openapi.json is current\n");
} else {
  writeFileSync(file, wanted);
  process.stdout.write(`wrote ${file}\n`);
}

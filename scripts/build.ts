/**
 * `npm run build` (the original's `make build`): type-checked JavaScript in dist/ that plain
 * `node` runs, without tsx: `node dist/local.js`, `node dist/writer/main.js`,
 * `node dist/scripts/db-migrate.js`. Compiles with `tsc -p tsconfig.build.json`, then copies
 * what the code reads at run time next to it: the Lua scripts and the migrations folder.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { CliError, flagValue, runCli } from "./cli.js";
import { PROJECT_ROOT } from "./services.js";

// `--out-dir <dir>` builds elsewhere (the tests do, to leave dist/ alone).
const outDir = flagValue(process.argv.slice(2), "--out-dir");
const dist = outDir ? resolve(outDir) : join(PROJECT_ROOT, "dist");

/** Removes the previous output of this build only: dist/functions/<host>/ belongs to build:functions. */
function removePreviousBuild(): void {
  for (const path of [
    "local.js",
    "local.js.map",
    "lib",
    "writer",
    "scripts",
    "migrations",
    "functions/hosts",
  ]) {
    rmSync(join(dist, path), { recursive: true, force: true });
  }
  const functions = join(dist, "functions");
  if (!existsSync(functions)) return;
  for (const name of readdirSync(functions)) {
    if (/\.js(\.map)?$/.test(name)) rmSync(join(functions, name), { force: true });
  }
}

await runCli(() => {
  removePreviousBuild();
  const tsc = spawnSync(
    join(PROJECT_ROOT, "node_modules", ".bin", "tsc"),
    ["-p", "tsconfig.build.json", "--outDir", dist],
    {
      cwd: PROJECT_ROOT,
      stdio: "inherit",
    },
  );
  if (tsc.error) throw new CliError(`cannot run tsc: ${tsc.error.message}`);
  if (tsc.status !== 0) throw new CliError("build failed: tsc reported errors (see above)");
  // lib/scripts.ts reads ./lua/*.lua and lib/migrations.ts ../migrations, relative to themselves.
  cpSync(join(PROJECT_ROOT, "lib", "lua"), join(dist, "lib", "lua"), { recursive: true });
  cpSync(join(PROJECT_ROOT, "migrations"), join(dist, "migrations"), { recursive: true });
  console.log(
    "built dist/: node dist/local.js (API), node dist/writer/main.js (writer), node dist/scripts/db-migrate.js",
  );
});

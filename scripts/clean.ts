/**
 * `npm run clean [-- --all]` (the original's `make clean`): removes logs, PM2's pid and log
 * files and the build output. The data (the SQLite database, Redis's files in data/) stays
 * unless `--all` is given. Refuses while `npm run up` services are running.
 */
import { existsSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { localPath } from "../lib/db.js";
import { CliError, runCli } from "./cli.js";
import { daemonPid, runPaths } from "./services.js";

const paths = runPaths();
const all = process.argv.includes("--all");

await runCli(() => {
  if (daemonPid(paths))
    throw new CliError("services are running: stop them first with npm run down");
  const targets = [paths.logs, paths.pm2Home, join(paths.dir, "dist"), join(paths.dir, "coverage")];
  if (all) {
    targets.push(join(paths.dir, "data"));
    // A DATABASE_URL file outside data/ is the user's own: named, not deleted.
    const database = localPath(process.env.DATABASE_URL || "file:data/votes.db");
    if (database && !resolve(database).startsWith(join(paths.dir, "data"))) {
      console.log(`kept ${database} (outside data/; delete it yourself if you mean to)`);
    }
  }
  const removed = targets.filter((target) => existsSync(target));
  for (const target of removed) rmSync(target, { recursive: true, force: true });
  const shown = removed.map((target) => relative(process.cwd(), target) || target);
  console.log(removed.length > 0 ? `removed ${shown.join(", ")}` : "nothing to clean");
  if (!all)
    console.log(
      "kept data/ (the database and Redis's files); npm run clean -- --all removes it too",
    );
});

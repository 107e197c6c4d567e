/**
 * `npm run logs [-- <name>] [-- --lines N]` (the original's `make logs`): follows the background
 * services' logs (logs/<name>.log) through this checkout's PM2. Ctrl-C stops following.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { daemonPid, runPaths } from "./services.js";

const paths = runPaths();
if (!daemonPid(paths)) {
  console.log(`nothing is running; earlier logs are in ${paths.logs}`);
  process.exit(0);
}
const pm2Bin = createRequire(import.meta.url).resolve("pm2/bin/pm2");
const child = spawn(process.execPath, [pm2Bin, "logs", ...process.argv.slice(2)], {
  stdio: "inherit",
  // Discrete mode: no first-run banner, no version check over the network.
  env: { ...process.env, PM2_HOME: paths.pm2Home, PM2_DISCRETE_MODE: "true" },
});
process.on("SIGINT", () => child.kill("SIGINT"));
child.on("exit", (code) => process.exit(code ?? 0));

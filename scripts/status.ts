/**
 * `npm run status` (the original's `make status`): each background service's state, pid,
 * uptime and restart count, from this checkout's PM2 daemon.
 */
import { runCli } from "./cli.js";
import { daemonPid, formatUptime, listServices, runPaths, withPm2 } from "./services.js";

const paths = runPaths();

await runCli(async () => {
  const services = daemonPid(paths) ? await withPm2(paths, listServices) : [];
  if (services.length === 0) {
    console.log("nothing is running (npm run up starts redis, api and writer)");
    return;
  }
  const rows = [
    ["name", "state", "pid", "uptime", "restarts"],
    ...services.map((s) => [
      s.name,
      s.status,
      s.status === "online" ? String(s.pid) : "-",
      s.status === "online" ? formatUptime(s.uptimeMs) : "-",
      String(s.restarts),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    );
});
process.exit();

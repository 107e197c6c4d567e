/**
 * `npm run down` (the original's `make stop`): stops what `npm run up` started (the API and
 * the writer first, so the writer finishes its batch and releases its lease while Redis is
 * still there, then Redis) and this checkout's PM2 daemon.
 */
import { runCli } from "./cli.js";
import { call, daemonPid, listServices, runPaths, withPm2 } from "./services.js";

const paths = runPaths();

await runCli(async () => {
  if (!daemonPid(paths)) {
    console.log("nothing is running");
    return;
  }
  const stopped = await withPm2(paths, async (pm2) => {
    const names = (await listServices(pm2)).map((s) => s.name);
    const order = [...names.filter((n) => n !== "redis"), ...names.filter((n) => n === "redis")];
    for (const name of order) await call((cb) => pm2.delete(name, cb));
    await call((cb) => pm2.killDaemon(cb));
    return order;
  });
  console.log(
    stopped.length > 0
      ? `stopped ${stopped.join(", ")}`
      : "nothing was running (stopped the idle PM2 daemon)",
  );
});
process.exit();

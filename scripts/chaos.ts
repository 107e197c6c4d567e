/**
 * `npm run chaos`: runs the real API, two writers and a private redis-server with AOF under
 * steady load, injects faults in turn, prints a table per fault and exits 1 on any lost or
 * duplicated vote. `--quick`: a small run (what `npm test` runs). `--fsync always|everysec`
 * (default everysec), `--faults a,b` (default: all), `--clients N`, `--sigkills N`.
 */
import { parseArgs } from "node:util";
import { formatReport } from "./chaos/report.js";
import { FAULTS, type Fault, hasSqlite3, runChaos } from "./chaos/run.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    fsync: { type: "string", default: "everysec" },
    faults: { type: "string" },
    clients: { type: "string" },
    sigkills: { type: "string" },
  },
});

const fsync = values.fsync === "always" ? "always" : "everysec";
const requested = values.faults?.split(",").map((f) => f.trim()) ?? [...FAULTS];
const unknown = requested.filter((f) => !(FAULTS as readonly string[]).includes(f));
if (unknown.length > 0) {
  process.stderr.write(`unknown fault(s): ${unknown.join(", ")}; known: ${FAULTS.join(", ")}\n`);
  process.exit(2);
}
let faults = requested as Fault[];
if (!hasSqlite3()) {
  process.stderr.write("sqlite3 CLI not installed: skipping the sqlite-locked fault\n");
  faults = faults.filter((f) => f !== "sqlite-locked");
}

const started = Date.now();
const report = await runChaos({
  quick: values.quick,
  fsync,
  faults,
  ...(values.clients ? { clients: Number(values.clients) } : {}),
  ...(values.sigkills ? { sigkills: Number(values.sigkills) } : {}),
  log: (line) => process.stderr.write(`chaos: ${line}\n`),
});
process.stdout.write(formatReport(report, fsync, Date.now() - started));
process.exit(report.ok ? 0 : 1);

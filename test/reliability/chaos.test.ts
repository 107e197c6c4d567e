/**
 * `npm run chaos --quick` inside `npm test`: the real API and writer processes and a private
 * redis-server (AOF, appendfsync always) under load, through every fault (writer SIGKILL,
 * SIGSTOP past the lease, Redis restart, FLUSHALL after a drain and under load, SQLite locked).
 * Zero accepted votes lost (beyond those a FLUSHALL destroys by design), zero duplicated, and
 * the totals agree.
 */
import { expect, it } from "vitest";
import { formatReport } from "../../scripts/chaos/report.js";
import { FAULTS, hasSqlite3, runChaos } from "../../scripts/chaos/run.js";

it("survives every fault with no vote lost or duplicated (quick chaos run)", {
  timeout: 180_000,
}, async () => {
  const faults = FAULTS.filter((f) => f !== "sqlite-locked" || hasSqlite3());
  const started = Date.now();
  const report = await runChaos({ quick: true, faults, fsync: "always" });
  const table = formatReport(report, "always", Date.now() - started);
  expect(report.problems, table).toEqual([]);
  expect(report.phases.map((p) => p.fault)).toEqual(["steady", ...faults]);
  for (const phase of report.phases) {
    expect(phase.lost, table).toBe(0);
    expect(phase.duplicated, table).toBe(0);
    expect(phase.recorded + phase.lostByDesign, table).toBe(phase.accepted);
    if (phase.fault !== "redis-flush-under-load" && phase.fault !== "redis-flush") {
      // Only a FLUSHALL destroys queued votes; with appendfsync always a restart loses none.
      expect(phase.lostByDesign, table).toBe(0);
    }
  }
  expect(report.totalsAgree, table).toBe(true);
  expect(report.totalAccepted).toBeGreaterThan(0);
});

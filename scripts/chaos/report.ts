/** The chaos run's report: one table row per fault, the notes, and the verdict. */
import type { ChaosReport } from "./run.js";

export function formatReport(report: ChaosReport, policy: string, elapsedMs: number): string {
  const header = [
    "fault",
    "injected",
    "accepted",
    "recorded",
    "lost",
    "lost by design",
    "duplicated",
    "503s",
    "recover (s)",
  ];
  const rows = report.phases.map((p) => [
    p.fault,
    String(p.injections),
    String(p.accepted),
    String(p.recorded),
    String(p.lost),
    String(p.lostByDesign),
    String(p.duplicated),
    String(p.refused),
    p.recoverMs === undefined
      ? p.fault === "steady"
        ? "-"
        : "never"
      : (p.recoverMs / 1000).toFixed(1),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  const out = [
    `chaos run: appendfsync ${policy}, ${report.totalAccepted} votes accepted, ${(elapsedMs / 1000).toFixed(0)} s`,
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    "",
    ...report.phases
      .filter((p) => p.note && p.fault !== "steady")
      .map((p) => `${p.fault}: ${p.note}`),
    `GET /votes equals SELECT option, count(*) FROM votes GROUP BY option: ${report.totalsAgree ? "yes" : "NO"}`,
    report.ok
      ? "OK: no accepted vote lost, none duplicated"
      : `FAILED:\n${report.problems.map((p) => `  - ${p}`).join("\n")}`,
    "",
  ];
  return out.join("\n");
}

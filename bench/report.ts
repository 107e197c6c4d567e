/**
 * Bench: the printed table. One row per figure: its value, the ceiling it is compared with, the
 * ratio, and the target from the performance issue (for the reader; nothing is asserted).
 */

export interface Row {
  figure: string;
  value: string;
  ceiling?: string;
  ratio?: number;
  target?: string;
}

export const fmt = {
  rps: (n: number) => `${Math.round(n).toLocaleString("en")}/s`,
  ms: (n: number) => `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`,
  mb: (n: number) => `${n.toFixed(0)} MB`,
  int: (n: number) => Math.round(n).toLocaleString("en"),
  us: (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(1)} µs`),
};

export function renderTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.ceiling ?? "",
    r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`,
    r.target ?? "",
  ]);
  const header = ["figure", "value", "ceiling / baseline", "ratio", "target"];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...cells.map(line),
  ].join("\n");
}

/**
 * Bench: the SQLite ceiling. Raw batched inserts through @libsql/client into a fresh file with
 * the writer's durability settings (WAL, synchronous=FULL): one transaction per batch of rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";

export interface SqliteCeilingResult {
  rows: number;
  rowsPerBatch: number;
  seconds: number;
  rate: number;
}

export async function sqliteCeiling(
  rows: number,
  rowsPerBatch = 1000,
): Promise<SqliteCeilingResult> {
  const dir = mkdtempSync(join(tmpdir(), "votes-bench-sqlite-"));
  const client = createClient({ url: `file:${join(dir, "raw.db")}`, concurrency: 1 });
  try {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute(
      "CREATE TABLE votes (id INTEGER PRIMARY KEY, option TEXT NOT NULL, created_at INTEGER NOT NULL)",
    );
    const sql = `INSERT INTO votes (id, option, created_at) VALUES ${"(?, ?, ?),".repeat(rowsPerBatch).slice(0, -1)}`;
    const now = Date.now();
    const started = performance.now();
    for (let first = 1; first <= rows; first += rowsPerBatch) {
      const args: (string | number)[] = [];
      for (let id = first; id < first + rowsPerBatch; id++) args.push(id, `option${id % 4}`, now);
      await client.batch([{ sql, args }], "write");
    }
    const seconds = (performance.now() - started) / 1000;
    const written = Math.ceil(rows / rowsPerBatch) * rowsPerBatch;
    return { rows: written, rowsPerBatch, seconds, rate: written / seconds };
  } finally {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

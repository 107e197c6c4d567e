/**
 * Everything the writer does to SQLite. Each write is one `batch()`, one transaction on the
 * writer's single connection, and starts by recording the writer's fencing token: a writer
 * whose lease was taken over holds a lower token, the trigger aborts, nothing commits.
 */
import type { Client, InStatement } from "@libsql/client";
import type { Vote } from "../lib/queue.js";

export interface WriterState {
  fenceToken: number;
  idCeiling: number;
  maxId: number;
}

/** The thrown error means "a newer writer committed": stop writing, go back to standby. */
export const isFenced = (error: unknown) => String((error as Error)?.message).includes("fenced:");

const fenceStatement = (token: number): InStatement => ({
  sql: "UPDATE writer_state SET fence_token = ?, updated_at = ? WHERE id = 1",
  args: [token, Date.now()],
});

export async function readState(client: Client): Promise<WriterState> {
  const result = await client.execute(
    "SELECT fence_token, id_ceiling, (SELECT coalesce(max(id), 0) FROM votes) FROM writer_state WHERE id = 1",
  );
  const row = result.rows[0];
  if (!row) throw new Error("writer_state has no row: run `npm run db:migrate`");
  return { fenceToken: Number(row[0]), idCeiling: Number(row[1]), maxId: Number(row[2]) };
}

export async function readAllTotals(client: Client): Promise<[string, number][]> {
  const result = await client.execute("SELECT option, count FROM totals ORDER BY option");
  return result.rows.map((row) => [String(row[0]), Number(row[1])]);
}

/** Records a new token (fences out every older writer) and, optionally, a higher id ceiling. */
export async function fence(client: Client, token: number, idCeiling?: number): Promise<void> {
  const statements: InStatement[] = [fenceStatement(token)];
  if (idCeiling !== undefined) {
    statements.push({
      sql: "UPDATE writer_state SET id_ceiling = max(id_ceiling, ?) WHERE id = 1",
      args: [idCeiling],
    });
  }
  await client.batch(statements, "write");
}

/**
 * Applies a batch of votes in one transaction: votes already present (a replay after a crash)
 * are skipped and not counted again. Returns the absolute totals of the options it touched.
 */
export async function applyVotes(
  client: Client,
  token: number,
  votes: readonly Vote[],
): Promise<[string, number][]> {
  const statements: InStatement[] = [
    fenceStatement(token),
    "CREATE TEMP TABLE IF NOT EXISTS incoming (id INTEGER PRIMARY KEY, option TEXT NOT NULL, created_at INTEGER NOT NULL)",
    "DELETE FROM temp.incoming",
  ];
  // The whole batch as one JSON argument of one short statement: SQLite parses JSON faster than
  // it prepares a statement with thousands of placeholders (measured: ~10% less writer CPU in
  // SQLite per vote, and one small statement text instead of a 30 kB one per batch).
  const rows = votes.map((vote) => [vote.id, vote.option, vote.createdAt]);
  statements.push({
    sql: `INSERT OR IGNORE INTO temp.incoming (id, option, created_at)
            SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
    args: [JSON.stringify(rows)],
  });
  statements.push(
    `INSERT INTO totals (option, count)
       SELECT option, count(*) FROM temp.incoming AS i
       WHERE NOT EXISTS (SELECT 1 FROM votes AS v WHERE v.id = i.id)
       GROUP BY option
     ON CONFLICT (option) DO UPDATE SET count = count + excluded.count`,
    `INSERT INTO votes (id, option, created_at)
       SELECT id, option, created_at FROM temp.incoming WHERE true
     ON CONFLICT (id) DO NOTHING`,
    "SELECT option, count FROM totals WHERE option IN (SELECT option FROM temp.incoming)",
  );
  const results = await client.batch(statements, "write");
  const touched = results[results.length - 1];
  return (touched?.rows ?? []).map((row) => [String(row[0]), Number(row[1])]);
}

/**
 * The writer recovers from a locked database file: another process holding the SQLite write
 * lock (a paused old writer inside its transaction, a backup, a `sqlite3` shell) makes a write
 * fail with SQLITE_BUSY; once the lock is free, the very next write must commit. (With libsql's
 * busy-failed statement left in progress, every later COMMIT failed until a garbage collection.)
 */
import { createClient } from "@libsql/client";
import { expect, test } from "vitest";
import { openWriterClient } from "../../lib/db.js";
import { applyVotes, fence, readState } from "../../writer/sqlite.js";
import { migratedDatabase } from "../support/fixtures.js";

test("after SQLITE_BUSY, the writer's next write commits once the lock is free", async () => {
  const url = await migratedDatabase();
  const writer = await openWriterClient({ url, authToken: undefined });
  const other = createClient({ url });

  const held = await other.transaction("write");
  await held.execute("UPDATE writer_state SET updated_at = 1 WHERE id = 1");
  await expect(fence(writer, 7)).rejects.toMatchObject({ code: "SQLITE_BUSY" });
  await held.rollback();

  await fence(writer, 7);
  await applyVotes(writer, 7, [{ id: 1, option: "option1", createdAt: 1 }]);
  expect(await readState(writer)).toMatchObject({ fenceToken: 7, maxId: 1 });
  const rows = await other.execute("SELECT count(*) FROM votes");
  expect(Number(rows.rows[0]?.[0])).toBe(1);
  writer.close();
  other.close();
});

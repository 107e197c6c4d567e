import { describe, expect, it } from "vitest";
import { migratedDatabase } from "../test/support/fixtures.js";
import { openClient } from "./db.js";
import { MIGRATIONS_TABLE, migrationState } from "./migrations.js";

describe("migrationState", () => {
  it("reports pending migrations, and ones Drizzle would silently skip", async () => {
    const url = await migratedDatabase();
    const client = openClient({ url, authToken: undefined }, 1);
    expect(await migrationState(client)).toMatchObject({ applied: 2, pending: [], skipped: [] });
    // Forget the first migration: it is now older than the newest applied, so never applied.
    await client.execute(
      `DELETE FROM ${MIGRATIONS_TABLE} WHERE created_at = (SELECT min(created_at) FROM ${MIGRATIONS_TABLE})`,
    );
    const state = await migrationState(client);
    expect(state.skipped.map((m) => m.tag)).toEqual(["0000_init"]);
    expect(state.pending).toEqual([]);
    await client.execute(`DELETE FROM ${MIGRATIONS_TABLE}`);
    expect((await migrationState(client)).pending.map((m) => m.tag)).toEqual([
      "0000_init",
      "0001_writer_fence_trigger",
    ]);
    client.close();
  });
});

import type { Client } from "@libsql/client";
import { beforeEach, describe, expect, it } from "vitest";
import { openWriterClient } from "../lib/db.js";
import type { Vote } from "../lib/queue.js";
import { migratedDatabase } from "../test/support/fixtures.js";
import { applyVotes, fence, readAllTotals, readState } from "./sqlite.js";

let db: Client;

beforeEach(async () => {
  db = await openWriterClient({ url: await migratedDatabase(), authToken: undefined });
  return () => db.close();
});

const votes = (from: number, options: string[]): Vote[] =>
  options.map((option, i) => ({ id: from + i, option, createdAt: 1_700_000_000_000 + i }));

const counts = async () =>
  (await db.execute("SELECT option, count(*) FROM votes GROUP BY option ORDER BY option")).rows.map(
    (row) => [String(row[0]), Number(row[1])],
  );

describe("applyVotes", () => {
  it("writes a batch and returns the absolute totals of the options it touched", async () => {
    expect(await applyVotes(db, 1, votes(1, ["a", "b", "a"]))).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    expect(await applyVotes(db, 1, votes(4, ["b"]))).toEqual([["b", 2]]);
    const row = await db.execute("SELECT id, option, created_at FROM votes WHERE id = 2");
    expect(row.rows[0]).toMatchObject({ id: 2, option: "b", created_at: 1_700_000_000_001 });
  });

  it("replayed twice, counts nothing twice", async () => {
    const batch = votes(1, ["a", "b", "a", "c"]);
    await applyVotes(db, 1, batch);
    const again = await applyVotes(db, 1, batch);
    // A batch that overlaps a committed one: only the new vote counts.
    await applyVotes(db, 1, [...batch.slice(2), ...votes(5, ["c"])]);
    expect(again).toEqual([
      ["a", 2],
      ["b", 1],
      ["c", 1],
    ]);
    expect(await counts()).toEqual([
      ["a", 2],
      ["b", 1],
      ["c", 2],
    ]);
    expect(await readAllTotals(db)).toEqual(await counts());
  });

  it("keeps a replayed vote's original option and created_at", async () => {
    await applyVotes(db, 1, votes(1, ["a"]));
    await applyVotes(db, 1, [{ id: 1, option: "z", createdAt: 5 }]);
    expect((await db.execute("SELECT option, created_at FROM votes")).rows[0]).toMatchObject({
      option: "a",
      created_at: 1_700_000_000_000,
    });
    expect(await readAllTotals(db)).toEqual([["a", 1]]);
  });

  it("large batches span several INSERT statements in one transaction", async () => {
    const many = Array.from({ length: 5001 }, (_, i) => ({
      id: i + 1,
      option: `o${i % 3}`,
      createdAt: i,
    }));
    await applyVotes(db, 1, many);
    expect((await readState(db)).maxId).toBe(5001);
    expect((await readAllTotals(db)).reduce((sum, [, n]) => sum + n, 0)).toBe(5001);
  });
});

describe("fencing", () => {
  it("a writer whose token is older than the recorded one cannot commit anything", async () => {
    await fence(db, 5);
    await expect(applyVotes(db, 4, votes(1, ["a"]))).rejects.toThrow(/fenced:/);
    expect(await counts()).toEqual([]);
    expect(await readAllTotals(db)).toEqual([]);
    await expect(fence(db, 4, 1_000_000)).rejects.toThrow(/fenced:/);
    expect(await readState(db)).toEqual({ fenceToken: 5, idCeiling: 0, maxId: 0 });
    await applyVotes(db, 6, votes(1, ["a"]));
    expect((await readState(db)).fenceToken).toBe(6);
  });

  it("the id ceiling only goes up", async () => {
    await fence(db, 1, 100);
    await fence(db, 1, 50);
    expect((await readState(db)).idCeiling).toBe(100);
  });
});

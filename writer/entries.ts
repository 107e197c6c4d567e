/**
 * Stream entries as the writer reads them: each either a vote to apply or a dead letter with
 * the reason it cannot be applied. The writer checks the structure only, not `VOTE_OPTIONS`:
 * a vote that was accepted is never refused later because the allow-list changed.
 */
import type { Vote } from "../lib/queue.js";
import { validateOption } from "../lib/validation.js";

export type RawEntry = [id: string, fields: string[] | null];

export interface DeadLetter {
  entryId: string;
  reason: string;
  fields: string;
}

export interface ParsedBatch {
  /** Every entry id read, in stream order: all are acknowledged once the batch committed. */
  entryIds: string[];
  votes: Vote[];
  dead: DeadLetter[];
}

const ENTRY_ID = /^([0-9]{1,16})-0$/;
const MILLIS = /^[0-9]{1,15}$/;

export function parseEntries(entries: readonly RawEntry[]): ParsedBatch {
  const batch: ParsedBatch = { entryIds: [], votes: [], dead: [] };
  for (const [entryId, fields] of entries) {
    batch.entryIds.push(entryId);
    const reason = check(entryId, fields);
    if (typeof reason === "string") {
      batch.dead.push({ entryId, reason, fields: JSON.stringify(fields) });
    } else {
      batch.votes.push(reason);
    }
  }
  return batch;
}

function check(entryId: string, fields: string[] | null): Vote | string {
  if (fields === null) return "the entry was deleted from the stream before it was written";
  const id = ENTRY_ID.exec(entryId)?.[1];
  if (!id || Number(id) < 1 || Number(id) > Number.MAX_SAFE_INTEGER) {
    return "the entry id is not <vote id>-0";
  }
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2)
    map.set(fields[i] as string, fields[i + 1] as string);
  const option = map.get("option");
  const createdAt = map.get("created_at");
  if (option === undefined) return "the entry has no option field";
  if (createdAt === undefined || !MILLIS.test(createdAt)) {
    return "the entry has no created_at in epoch milliseconds";
  }
  try {
    validateOption(option, undefined);
  } catch (error) {
    return `invalid option: ${(error as Error).message}`;
  }
  return { id: Number(id), option, createdAt: Number(createdAt) };
}

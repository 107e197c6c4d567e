/**
 * libSQL clients. The API gets a read-only use of a shared client (Drizzle on top); the writer
 * gets its own client, set up for durability, and writes only through `batch()` so that every
 * statement runs on its one connection.
 */

import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import type { Config } from "./config.js";
import * as schema from "./schema.js";

export type Database = LibSQLDatabase<typeof schema>;

/** The file path of a `file:` URL, or undefined for a remote database. */
export function localPath(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const path = url.slice("file:".length).split("?")[0] ?? "";
  return path.startsWith("//") ? path.slice(2) : path;
}

/** Opens a client; for a local file it creates the folder first. */
export function openClient(database: Config["database"], concurrency?: number): Client {
  const path = localPath(database.url);
  if (path && path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  return createClient({
    url: database.url,
    ...(database.authToken ? { authToken: database.authToken } : {}),
    ...(concurrency ? { concurrency } : {}),
  });
}

/** A client for readers: a short busy timeout, so a read never stalls a request for long. */
export async function openReader(database: Config["database"]): Promise<Client> {
  // Calls are synchronous in file mode, so one connection serves every read of a process.
  const client = openClient(database, 1);
  if (localPath(database.url)) await client.execute("PRAGMA busy_timeout = 250");
  return client;
}

export const drizzleOf = (client: Client): Database => drizzle(client, { schema });

/** A recorded vote as stored (`created_at` in epoch milliseconds). */
export interface VoteRow {
  id: number;
  option: string;
  createdAt: number;
}

export type VoteLookup = (id: number) => VoteRow | undefined;

/**
 * `GET /votes/{id}`'s read of a local file: one statement prepared once on its own read-only
 * use of a connection of libsql (the driver under @libsql/client). About 4 us a lookup, where
 * the client takes about 25 us because it prepares every statement anew and reads its column
 * metadata twice. Undefined for a remote database (the Drizzle client serves it). Throws when
 * the file cannot be opened or has no votes table (not migrated).
 */
export function openVoteLookup(database: Config["database"]): VoteLookup | undefined {
  const path = localPath(database.url);
  if (!path || path === ":memory:") return undefined;
  // Loaded here, not at import: a function bundle on a remote database never needs the native
  // driver (the bundle lists it as an external dependency, see scripts/build-functions.ts).
  const Libsql = createRequire(import.meta.url)("libsql") as typeof import("libsql");
  const connection = new Libsql(path);
  try {
    connection.exec("PRAGMA busy_timeout = 250");
    const statement = connection
      .prepare("SELECT id, option, created_at FROM votes WHERE id = ?")
      .raw(true);
    return (id) => {
      const row = statement.get([id]) as [number, string, number] | undefined;
      return row
        ? { id: Number(row[0]), option: String(row[1]), createdAt: Number(row[2]) }
        : undefined;
    };
  } catch (error) {
    connection.close();
    throw error;
  }
}

/**
 * The writer's client: WAL and `synchronous=FULL`, so a committed batch is on disk before any of
 * its entries is acknowledged in Redis. The busy timeout is short on purpose: a locked file is
 * retried with backoff by the writer loop, without blocking the event loop (and the lease).
 */
export async function openWriterClient(database: Config["database"]): Promise<Client> {
  if (!localPath(database.url)) return openClient(database, 1);
  return replacedWhenBusy(await openDurable(database), () => openDurable(database));
}

async function openDurable(database: Config["database"]): Promise<Client> {
  // One connection: a PRAGMA reaches only the connection that ran it.
  const client = openClient(database, 1);
  await client.execute("PRAGMA busy_timeout = 50");
  const mode = await client.execute("PRAGMA journal_mode = WAL");
  await client.execute("PRAGMA synchronous = FULL");
  await client.execute("PRAGMA temp_store = MEMORY");
  const sync = await client.execute("PRAGMA synchronous");
  if (String(mode.rows[0]?.[0]).toLowerCase() !== "wal" || Number(sync.rows[0]?.[0]) !== 2) {
    throw new Error("could not put the database in WAL mode with synchronous=FULL");
  }
  return client;
}

/**
 * A statement that failed with SQLITE_BUSY stays "in progress" on its connection (libsql-js does
 * not reset it: tursodatabase/libsql-client-ts#352), and until the garbage collector finalizes
 * it every COMMIT on that connection fails ("cannot commit transaction - SQL statements in
 * progress"), although the lock is free: an idle writer retried for ever. So after a busy
 * failure the connection is replaced by a fresh one, with the same PRAGMAs, before the next call.
 */
function replacedWhenBusy(first: Client, open: () => Promise<Client>): Client {
  let current = first;
  let replacing: Promise<void> | undefined;
  const replace = () => {
    replacing ??= open()
      .then((fresh) => {
        const old = current;
        current = fresh;
        old.close();
      })
      .catch(() => {}) // keep the old one; the next busy failure tries again
      .finally(() => {
        replacing = undefined;
      });
    return replacing;
  };
  const retried =
    (name: "execute" | "batch") =>
    async (...args: unknown[]) => {
      await replacing;
      try {
        return await (current[name] as (...a: unknown[]) => Promise<unknown>).apply(current, args);
      } catch (error) {
        if ((error as { code?: string }).code === "SQLITE_BUSY") await replace();
        throw error;
      }
    };
  const execute = retried("execute");
  const batch = retried("batch");
  return new Proxy(first, {
    get(_target, property) {
      if (property === "execute") return execute;
      if (property === "batch") return batch;
      const value = Reflect.get(current, property, current);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
}

/**
 * Support for the reliability suites: an API served over real HTTP on a free port, and small
 * readers of the SQLite file and the Redis keys a test checks.
 */
import type { AddressInfo } from "node:net";
import { createClient } from "@libsql/client";
import type { Config } from "../../lib/config.js";
import type { Deps } from "../../lib/deps.js";
import { startServer } from "../../local.js";
import { testDeps } from "../support/fixtures.js";

export interface Api {
  deps: Deps;
  url: string;
  close(): Promise<void>;
}

/** Serves `createApp` with the real Node server (local.ts) on a free port. */
export async function startApi(config: Config, deps: Deps = testDeps(config)): Promise<Api> {
  const server = startServer({ ...deps, config: { ...deps.config, port: 0, host: "127.0.0.1" } });
  if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    deps,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      await deps.close();
    },
  };
}

/** POSTs a vote over HTTP. */
export function post(
  url: string,
  option: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/votes`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ option }),
  });
}

export interface Row {
  id: number;
  option: string;
  created_at: number;
}

/** Every vote row in the SQLite file, read by a fresh connection. */
export async function sqliteVotes(databaseUrl: string): Promise<Row[]> {
  const client = createClient({ url: databaseUrl });
  try {
    const result = await client.execute("SELECT id, option, created_at FROM votes ORDER BY id");
    return result.rows.map((r) => ({
      id: Number(r[0]),
      option: String(r[1]),
      created_at: Number(r[2]),
    }));
  } finally {
    client.close();
  }
}

/** `SELECT option, count(*) FROM votes GROUP BY option` as an object. */
export async function sqliteCounts(databaseUrl: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const row of await sqliteVotes(databaseUrl))
    counts[row.option] = (counts[row.option] ?? 0) + 1;
  return counts;
}

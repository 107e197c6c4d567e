/**
 * Another process holding the SQLite write lock: the sqlite3 CLI inside `BEGIN EXCLUSIVE`,
 * until `release()` commits and quits.
 */
import { spawn } from "node:child_process";
import { localPath } from "../../lib/db.js";

export class SqliteLock {
  private constructor(private readonly release_: () => Promise<void>) {}

  static async take(databaseUrl: string): Promise<SqliteLock> {
    const path = localPath(databaseUrl);
    if (!path) throw new Error("the SQLite lock fault needs a file: database");
    const child = spawn("sqlite3", [path], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // The lock may be contended by the writer itself: retry until BEGIN EXCLUSIVE succeeds.
    child.stdin.write(".timeout 5000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
    const deadline = Date.now() + 10_000;
    while (!out.includes("locked")) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`sqlite3 could not lock the database: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return new SqliteLock(async () => {
      child.stdin.end("COMMIT;\n.quit\n");
      await exited;
    });
  }

  release(): Promise<void> {
    return this.release_();
  }
}

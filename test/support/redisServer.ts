/**
 * Test support: a private `redis-server` on a free port with its own temp dir, so a suite can
 * kill, restart or flush it without touching any other Redis.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `["--appendonly", "yes"]`. */
  args?: string[];
}

export class RedisServer {
  readonly dir: string;
  port = 0;
  #child: ChildProcess | undefined;

  constructor(private readonly options: RedisServerOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "votes-redis-"));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, on the same port and dir) the server and waits until it answers. */
  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        "no",
        ...(this.options.args ?? []),
      ],
      { stdio: "ignore" },
    );
    this.#child = child;
    await waitForRedis(this.port);
    return this;
  }

  /** Stops the server: SIGKILL by default (a crash), SIGTERM for a clean shutdown. */
  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill(signal);
    });
    this.#child = undefined;
  }

  /** A client for the test's own checks. */
  client(): Redis {
    return new Redis(this.port, "127.0.0.1", { maxRetriesPerRequest: 1, lazyConnect: false });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForRedis(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

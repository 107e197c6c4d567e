/**
 * Test support: the writer and the API as real child processes, with their output captured line
 * by line, so a suite can SIGKILL, SIGSTOP, SIGTERM and restart them.
 *
 * Processes that a test kills or pauses run as `node --import tsx <file>`: one process. The `tsx`
 * binary (and `npm run`) would put a parent in front of the real one, and a SIGKILL or SIGSTOP
 * sent to that parent never reaches the writer (it keeps running, orphaned, holding the lease).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Config } from "../../lib/config.js";
import { childEnv, eventually } from "./fixtures.js";
import { freePort } from "./redisServer.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A spawned process and everything it printed. */
export class Child {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  readonly #process: ChildProcess;
  readonly #group: boolean;
  #partial = "";

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    options: { group?: boolean } = {},
  ) {
    this.#group = options.group ?? false;
    this.#process = spawn(command, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: this.#group,
    });
    this.#process.stdout?.on("data", (chunk: Buffer) => this.#collect(chunk));
    this.#process.stderr?.on("data", (chunk: Buffer) => this.#collect(chunk));
    this.exited = new Promise((resolve) => {
      this.#process.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get pid(): number {
    return this.#process.pid ?? 0;
  }

  alive(): boolean {
    return this.exit === undefined;
  }

  /**
   * Sends a signal: to the whole process group for `group` children (`npm run`, `tsx`: what a
   * terminal does), or only to the spawned process with `to: "process"` (what a supervisor does).
   */
  signal(signal: NodeJS.Signals, to: "group" | "process" = "group"): void {
    if (!this.alive()) return;
    try {
      if (this.#group && to === "group") process.kill(-this.pid, signal);
      else this.#process.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<Exit> {
    this.signal("SIGCONT");
    this.signal("SIGKILL");
    return this.exited;
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(
    signal: NodeJS.Signals = "SIGTERM",
    timeoutMs = 10_000,
    to: "group" | "process" = "group",
  ): Promise<Exit> {
    this.signal(signal, to);
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Everything printed so far, one string. */
  output(): string {
    return [...this.lines, this.#partial].filter(Boolean).join("\n");
  }

  /** The JSON log lines (pino) printed so far. */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits for a log line whose `msg` matches; returns it. Fails early if the process exits. */
  async waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await eventually(
      () => {
        found = this.logs().find((l) => pattern.test(String(l.msg)));
        if (!found && !this.alive()) {
          throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}):\n${this.output()}`);
        }
        return found !== undefined;
      },
      timeoutMs,
      `${this.name} to log ${pattern}\n${this.output()}`,
    );
    return found as Record<string, unknown>;
  }

  #collect(chunk: Buffer): void {
    const text = this.#partial + chunk.toString("utf8");
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) if (line.trim() !== "") this.lines.push(line);
  }
}

const live = new Set<Child>();
// Never leave a writer running after the test process is gone (a failed or aborted run).
process.once("exit", () => {
  for (const child of live) child.signal("SIGKILL");
});

/** SIGKILLs every child this test process started that is still running (for afterAll). */
export async function killChildren(): Promise<void> {
  await Promise.all([...live].map((child) => child.kill()));
}

/** Runs a TypeScript entry point as one Node process (`node --import tsx`). */
export function spawnTs(name: string, file: string, env: NodeJS.ProcessEnv): Child {
  return new Child(name, process.execPath, ["--import", "tsx", file], env);
}

/**
 * Starts `writer/main.ts` for this test's deployment, logging at `info` (lease, seed, stop) as
 * JSON, with its own metrics port.
 */
export async function spawnWriter(
  config: Config,
  extra: Record<string, string> = {},
  name = "writer",
): Promise<Child> {
  const env = childEnv(config, {
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    WRITER_BATCH_SIZE: String(config.writer.batchSize),
    WRITER_METRICS_PORT: String(await freePort()),
    ...extra,
  });
  return spawnTs(name, "writer/main.ts", env);
}

/** The `writer id` a writer child logged when it took the lease (waits for it). */
export async function leaderId(writer: Child, timeoutMs = 15_000): Promise<string> {
  const line = await writer.waitForLog(/took the writer lease/, timeoutMs);
  return String(line.writer);
}

export interface ApiChild {
  child: Child;
  url: string;
}

/** Starts the API (`local.ts`) on a free port and waits until `/healthz` answers. */
export async function spawnApi(
  config: Config,
  extra: Record<string, string> = {},
  command: "node" | "npm" = "node",
): Promise<ApiChild> {
  const port = await freePort();
  const env = childEnv(config, { PORT: String(port), HOST: "127.0.0.1", ...extra });
  const child =
    command === "npm"
      ? new Child("api", "npm", ["run", "--silent", "local"], env, { group: true })
      : spawnTs("api", "local.ts", env);
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (!child.alive()) throw new Error(`the API exited:\n${child.output()}`);
      return fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    20_000,
    `the API on ${url}`,
  );
  return { child, url };
}

/**
 * A service process (API or writer) run as `node --import tsx <file>`: one OS process, so a
 * SIGKILL or SIGSTOP reaches the service itself and not a launcher in front of it. Its output
 * is kept line by line for log checks and for the report of a failed run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export class ServiceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<void>;
  #child: ChildProcess;
  #alive = true;

  constructor(
    readonly name: string,
    file: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.#child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line) this.lines.push(line);
      if (this.lines.length > 5000) this.lines.splice(0, this.lines.length - 5000);
    };
    this.#child.stdout?.on("data", collect);
    this.#child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) =>
      this.#child.once("exit", () => {
        this.#alive = false;
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  alive(): boolean {
    return this.#alive;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.#alive) this.#child.kill(signal);
  }

  /** SIGKILL (after SIGCONT, in case it is paused) and wait until it is gone. */
  async kill(): Promise<void> {
    this.signal("SIGCONT");
    this.signal("SIGKILL");
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.signal("SIGCONT");
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** True once a line matching `pattern` was printed. */
  printed(pattern: RegExp): boolean {
    return this.lines.some((line) => pattern.test(line));
  }

  tail(n = 20): string {
    return this.lines.slice(-n).join("\n");
  }
}

/**
 * Bench: the service's processes, started as a user starts them (`node <flags> <entry>`, without
 * npm in front: see bench/build.ts), with their output captured and their memory measured: peak
 * RSS (VmHWM) of every process in the tree.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

export class Service {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  /** Peak RSS in MB per pid seen in this process tree. */
  readonly peaks = new Map<number, number>();
  #sampler: NodeJS.Timeout;

  constructor(
    readonly name: string,
    /** Node arguments: flags, then the file. */
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.#child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    const collect = (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (this.lines.length < 5000) this.lines.push(line);
        for (const waiter of [...this.#waiters]) {
          if (waiter.match(line)) {
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
            waiter.resolve(line);
          }
        }
      }
    };
    this.#child.stdout?.on("data", collect);
    this.#child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
    // Children exit with their tree; VmHWM is read while they live.
    this.#sampler = setInterval(() => this.sampleMemory(), 250);
    this.#sampler.unref();
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** Resolves with the first line (from now on, or already printed) that matches. */
  waitFor(match: (line: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no "${what}" within ${timeoutMs} ms:\n${this.lines.join("\n")}`,
            ),
          ),
        timeoutMs,
      );
      const waiter = {
        match,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited (${code}) before "${what}":\n${this.lines.join("\n")}`),
        );
      });
    });
  }

  /** Records VmHWM (peak RSS) of this process and all its descendants. */
  sampleMemory(): void {
    for (const pid of tree(this.pid)) {
      const mb = peakRssMb(pid);
      if (mb > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, mb);
    }
  }

  /**
   * CPU seconds (user + system) used so far by the processes of the tree that are alive now:
   * the difference over a load, divided by its requests, is CPU per request, a figure that
   * holds up far better than req/s on a shared machine.
   */
  cpuSeconds(): number {
    let ticks = 0;
    for (const pid of tree(this.pid)) ticks += cpuTicks(pid);
    return ticks / CLOCK_TICKS_PER_SECOND;
  }

  /** The highest peak RSS of any single process of the tree, MB. */
  maxPeakMb(): number {
    this.sampleMemory();
    return Math.max(0, ...this.peaks.values());
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 20_000): Promise<number | null> {
    this.sampleMemory();
    clearInterval(this.#sampler);
    if (this.#child.exitCode !== null || this.#child.signalCode !== null)
      return this.#child.exitCode;
    this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** A pid and all its descendants (Linux /proc). */
export function tree(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    try {
      const children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
      for (const child of children.split(/\s+/).filter(Boolean)) walk(Number(child));
    } catch {
      // gone
    }
  };
  if (pid > 0) walk(pid);
  return out;
}

/** USER_HZ, which /proc/<pid>/stat counts in: 100 on Linux (x86 and arm alike). */
const CLOCK_TICKS_PER_SECOND = 100;

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // utime and stime are the 14th and 15th fields of the line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Polls an HTTP URL until it answers 200. */
export async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

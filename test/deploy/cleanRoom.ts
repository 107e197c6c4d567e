/**
 * Test support for the deploy suite: builds the function bundles, lays them out in a temp folder
 * the way a host receives them (each bundle folder, then `npm install --omit=dev` of what its
 * package.json lists), and runs them in a bare `node` child that knows nothing of this repo.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Bundle, buildFunctions } from "../../scripts/build-functions.js";

export const DRIVER = fileURLToPath(new URL("./driver.mjs", import.meta.url));

export type CallKind = "environment" | "exports" | "web" | "fetch" | "lambda";

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface LambdaResult {
  statusCode: number;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/** Builds the bundles and installs their external dependencies in a folder outside the repo. */
export async function prepareCleanRoom(): Promise<{
  dir: string;
  /** The folder with the bundles, their node_modules and the driver. */
  room: string;
  bundles: Bundle[];
  path(b: Bundle): string;
}> {
  const dir = mkdtempSync(join(tmpdir(), "votes-deploy-"));
  const bundles = await buildFunctions({ outdir: join(dir, "build") });
  const room = join(dir, "room");
  const dependencies: Record<string, string> = {};
  for (const b of bundles) {
    const pkg = JSON.parse(readFileSync(join(b.dir, "package.json"), "utf8"));
    Object.assign(dependencies, pkg.dependencies);
    cpSync(b.dir, join(room, b.host, b.name), { recursive: true });
  }
  // One install serves every bundle folder below it (Node looks up the tree for node_modules).
  writeFileSync(
    join(room, "package.json"),
    JSON.stringify({ private: true, type: "module", dependencies }),
  );
  const npm = (...flags: string[]) =>
    execFileSync("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", ...flags], {
      cwd: room,
      stdio: "pipe",
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
  try {
    npm("--offline");
  } catch {
    npm("--prefer-offline");
  }
  cpSync(DRIVER, join(room, "driver.mjs"));
  return { dir, room, bundles, path: (b) => join(room, b.host, b.name, "index.mjs") };
}

/** A bare `node` process that imports bundles and calls them as a host would. */
export class CleanNode {
  #child: ChildProcess;
  #next = 0;
  #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly ready: Promise<void>;

  constructor(folder: string, env: Record<string, string>) {
    this.#child = fork(join(folder, "driver.mjs"), [], {
      cwd: folder,
      execPath: process.execPath,
      execArgv: [],
      // Only what a host would set: no NODE_OPTIONS (tsx, vitest), no NODE_PATH.
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.on(
        "message",
        (m: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
          if (m.ready) return resolve();
          const waiter = this.#pending.get(m.id ?? -1);
          this.#pending.delete(m.id ?? -1);
          if (m.ok) waiter?.resolve(m.result);
          else waiter?.reject(new Error(m.error));
        },
      );
    });
  }

  call<T>(bundle: string, kind: CallKind, input?: unknown): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, bundle, kind, input });
    });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.#child.once("exit", () => resolve());
      this.#child.kill("SIGTERM");
    });
  }
}

export const removeRoom = (dir: string) => rmSync(dir, { recursive: true, force: true });

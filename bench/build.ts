/**
 * Bench: how the measured processes run. By default as built JavaScript (`npm run build`'s
 * output, written to a folder of this run, and the bare server bundled beside it with esbuild), so
 * that no TypeScript loader sits in their memory (tsx costs ~35 MB per process); with
 * `BENCH_RUNTIME=tsx` as `node --import tsx <file>.ts`, the way `npm run local` runs.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "./processes.js";

export type Runtime = "built" | "tsx";

export interface Entries {
  runtime: Runtime;
  /** Node arguments that run the file (loader flags and the path). */
  args(entry: "local" | "writer" | "bare"): string[];
  /** Removes the build of this run. */
  remove(): void;
}

const SOURCES = { local: "local.ts", writer: "writer/main.ts", bare: "bench/bareHono.ts" };

export async function prepareEntries(runtime: Runtime): Promise<Entries> {
  if (runtime === "tsx") {
    return {
      runtime,
      args: (entry) => ["--import", "tsx", join(REPO_ROOT, SOURCES[entry])],
      remove: () => {},
    };
  }
  // Inside node_modules, so that the built files resolve the project's packages; one folder per
  // run, so that two runs (npm test while a full bench runs) do not rebuild under each other.
  const out = join(REPO_ROOT, "node_modules", ".cache", `votes-bench-build-${process.pid}`);
  const built = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/build.ts", "--out-dir", out],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
  await build({
    entryPoints: [join(REPO_ROOT, SOURCES.bare)],
    outfile: join(out, "bench", "bareHono.js"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "silent",
  });
  const files = { local: "local.js", writer: "writer/main.js", bare: "bench/bareHono.js" };
  return {
    runtime,
    args: (entry) => [join(out, files[entry])],
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}

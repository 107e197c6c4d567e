/**
 * Multi-core serving with node:cluster: the primary forks `count` workers that share one
 * listening port (the primary hands out connections round-robin). A worker that crashes is
 * replaced; one that exits before it ever listened (bad port, bad config) stops them all, with
 * its exit code. SIGINT/SIGTERM reach every worker, which shuts down cleanly; the primary exits
 * when they all have. With `count` 1 there is no primary: `work` runs in this process.
 */
import cluster, { type Worker } from "node:cluster";

export interface ClusterLog {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** Runs `work` in this process (count 1, or inside a worker), else becomes the primary. */
export function runClustered(count: number, work: () => void, log: ClusterLog): void {
  if (count <= 1 || cluster.isWorker) {
    work();
    return;
  }
  let stopping = false;
  const listened = new WeakSet<Worker>();
  const fork = () => {
    const worker = cluster.fork();
    worker.on("listening", () => listened.add(worker));
  };
  cluster.on("exit", (worker, code, signal) => {
    const alive = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (alive === 0) process.exit(0);
      return;
    }
    if (!listened.has(worker)) {
      // It never served: the next one would fail the same way. Stop everything.
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill("SIGTERM");
      process.exit(code || 1);
    }
    log.error({ pid: worker.process.pid, code, signal }, "an API worker died; starting another");
    fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill(signal);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  for (let i = 0; i < count; i++) fork();
  log.info({ workers: count }, "API primary started its workers");
}

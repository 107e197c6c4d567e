/**
 * The V8 flags every API process runs with (`npm run local`, `npm start`, `npm run up`, the
 * bench); package.json and ecosystem.config.cjs spell them out too, and a test keeps all of them
 * equal to this list.
 * - `--max-semi-space-size=4`: a smaller young generation, about 20 MB less RSS per process and no
 *   throughput change the bench could measure.
 * - `--no-memory-reducer`: without it, a process that has been idle serves fewer requests per
 *   second afterwards (the bench's check: 0.93–0.97× in every run on this machine).
 * - `--heap-growing-percent=100`: after a full GC, V8 lets the old generation grow to 2× what
 *   survived instead of up to 4×. Under POST load about 18 MB survive, and by default the heap
 *   climbed to ~73 MB between full GCs: peak RSS 144 MB per process, against 112–114 MB with
 *   the flag, at the same req/s (measured: 27–29k POST/s either way, one process pair).
 */
export const API_NODE_FLAGS = [
  "--max-semi-space-size=4",
  "--no-memory-reducer",
  "--heap-growing-percent=100",
] as const;

/**
 * The V8 flags every API process runs with (`npm run local`, `npm start`, `npm run up`, the
 * bench); package.json and ecosystem.config.cjs spell them out too, and a test keeps all of them
 * equal to this list.
 * - `--max-semi-space-size=4`: a smaller young generation, about 20 MB less RSS per process and no
 *   throughput change the bench could measure.
 * - `--no-memory-reducer`: without it, a process that has been idle serves fewer requests per
 *   second afterwards (the bench's check: 0.94–0.97× in every run on this machine).
 */
export const API_NODE_FLAGS = ["--max-semi-space-size=4", "--no-memory-reducer"] as const;

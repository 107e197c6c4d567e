import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "*.test.ts",
      "test/**/*.test.ts",
      "lib/**/*.test.ts",
      "functions/**/*.test.ts",
      "writer/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Suites start their own redis-server and child processes; two cores: keep it modest.
    maxWorkers: 2,
    fileParallelism: true,
  },
});

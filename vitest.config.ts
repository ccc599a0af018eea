import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'machines/**/*.test.ts'],
    globalSetup: ['test/support/global-redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Chaos and process-kill tests start their own processes; keep the suite's parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});

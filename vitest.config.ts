import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests that start their own processes and servers; keep the suite's parallelism modest on 2 cores.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts', 'machines/**/*.test.ts'],
          exclude: ['test/chaos/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Chaos tests measure takeover latency with processes being killed: they run after the rest,
        // so the other test files do not compete with them for the CPU.
        extends: true,
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

/**
 * The tests Stryker runs against mutants of the pure decision code (src/compile, src/flow): the unit
 * tests, which need no Redis and no child processes. Left out: the examples (child processes run the
 * unmutated sources), the machines/ lifecycle tests (another room) and the slow path-enumeration and
 * wide-flow tests, which cover nearly every mutant and would run for each one.
 * `npm run mutate` uses it; `npm test` does not.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [
      'test/unit/examples.test.ts',
      'test/unit/machines-*.test.ts',
      // Seconds each, and they cover nearly every mutant: they would run for each one.
      'test/unit/path-testing.test.ts',
      'test/unit/path-testing-example.test.ts',
      'test/unit/engine-wide.test.ts',
    ],
    // These tests take well under a second; a mutant that leaves a run hanging fails the test here
    // (killed) instead of running into Stryker's timeout, which restarts a test worker.
    testTimeout: 3_000,
    hookTimeout: 3_000,
  },
});

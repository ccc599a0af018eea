import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Behavioural test files that also run in distributed mode (the `distributed` project). */
const DISTRIBUTED_SUITE = [
  'test/unit/engine-linear.test.ts',
  'test/unit/engine-graph.test.ts',
  'test/unit/engine-revert.test.ts',
  'test/unit/engine-retry-task.test.ts',
  'test/unit/engine-suspend-cancel.test.ts',
  'test/unit/engine-arguments.test.ts',
  'test/unit/engine-retry-controllers.test.ts',
  'test/unit/concurrency-after-dependency.test.ts',
  'test/unit/backoff-outside-retried-scope.test.ts',
  'test/unit/concurrency-during-revert.test.ts',
  'test/unit/decider-after-sources.test.ts',
  'test/unit/engine-nested-retry.test.ts',
  'test/unit/engine-not-reverted.test.ts',
  'test/unit/engine-revert-again.test.ts',
  'test/unit/failure-outside-retried-scope.test.ts',
  'test/unit/idempotency-key-format.test.ts',
  'test/unit/ignored-provider.test.ts',
  'test/unit/no-retry-while-reverting.test.ts',
  'test/unit/scope-retry-resets-records.test.ts',
  // Not here: engine-revert-suspended.test.ts resolves a task's gate right after suspend(); a distributed
  // suspend takes effect when stored, so that task's successor may start first (README "Not yet").
];

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // `import 'taskweave'` inside the repo means the source (no build needed), as tsconfig's paths say.
  resolve: {
    alias: [
      { find: /^taskweave$/, replacement: here('./src/index.ts') },
      { find: /^taskweave\/testing$/, replacement: here('./src/testing/index.ts') },
      { find: /^taskweave\/machines$/, replacement: here('./machines/index.ts') },
    ],
  },
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
          // Your own tests go in any of these (e.g. test/my-flow.test.ts).
          include: ['test/**/*.test.ts', 'machines/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['test/chaos/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The behavioural suite again in distributed mode: newEngine() (test/unit/engine-support.ts)
        // makes a distributed engine on Redis with a worker in the test's process. Files not listed
        // here are in-process only (see README "In-process or distributed?" for what is covered).
        extends: true,
        test: {
          name: 'distributed',
          include: DISTRIBUTED_SUITE,
          env: { TASKWEAVE_TEST_EXECUTION: 'distributed' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The same suite in distributed mode on a test-owned 3-master Redis Cluster (started by its
        // global setup): run keys and queues on different slots, steps through the outbox.
        extends: true,
        test: {
          name: 'distributed-cluster',
          include: DISTRIBUTED_SUITE,
          globalSetup: ['test/support/global-redis.ts', 'test/support/global-redis-cluster.ts'],
          env: { TASKWEAVE_TEST_EXECUTION: 'distributed-cluster' },
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Chaos tests measure takeover latency with processes being killed: they run after the rest,
        // so the other test files do not compete with them for the CPU.
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          exclude: ['test/chaos/distributed-chaos.test.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The distributed chaos test kills worker processes as fast as the conductors' one: run after
        // it, so neither times its takeovers while the other competes for the CPU.
        extends: true,
        test: {
          name: 'chaos-distributed',
          include: ['test/chaos/distributed-chaos.test.ts'],
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});

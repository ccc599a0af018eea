import { describe, expect, it } from 'vitest';
import { FlowFailedError, parallel, task } from '../../src/index.js';
import { deferred, newEngine, rejectionOf, taskStates } from './engine-support.js';

/**
 * Once a run is reverting, no task gets a new attempt: a task with `retry.attempts > 1` whose execute
 * was still running when a sibling failed is let finish (running tasks finish first), and if it then
 * throws, it fails and is reverted; it is not executed again. The backoff test covers a task already
 * waiting for its next attempt; this one covers the attempt in flight (issue 16, mutant 2: a retry
 * guard without "only while running forward" ran attempts 2 and 3 during the revert).
 */
describe('no new attempts once the run is reverting', () => {
  it('a retrying task still running when a sibling fails is not executed again after it throws', async () => {
    const reverting = deferred();
    const attempts: number[] = [];
    const reverted: string[] = [];
    const flow = parallel('retry-during-revert', [
      task({
        name: 'flaky',
        retry: { attempts: 3, backoffMs: 0 },
        async execute(_args, ctx) {
          attempts.push(ctx.attempt);
          // Still running when the sibling fails; throws only once the run is reverting.
          await reverting.promise;
          throw new Error(`flaky attempt ${ctx.attempt}`);
        },
        revert: ({ error }) => void reverted.push(`flaky (${error?.message})`),
      }),
      task({
        name: 'breaks',
        async execute() {
          throw new Error('breaks');
        },
      }),
    ]);
    const run = newEngine().start(flow);
    const states = taskStates(run);
    run.on('flow', ({ state }) => state === 'REVERTING' && reverting.resolve());
    const error = await rejectionOf(run.result);

    expect(error).toBeInstanceOf(FlowFailedError);
    expect(attempts).toEqual([1]);
    expect(states.filter((s) => s.startsWith('flaky '))).toEqual([
      'flaky RUNNING',
      'flaky FAILURE',
      'flaky REVERTING',
      'flaky REVERTED',
    ]);
    expect(reverted).toEqual(['flaky (flaky attempt 1)']);
    expect(run.status).toBe('REVERTED');
  });
});

import { describe, expect, it } from 'vitest';
import { FlowFailedError, type FlowRun, parallel, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/**
 * The concurrency limit holds while a run reverts, not only while it runs forward: with
 * `concurrency: 1`, the reverts of independent tasks run one at a time. Found by Stryker (issue 16):
 * the scheduler's revert path starting every revertible task at once survived every test.
 */

/** The most tasks the run reported REVERTING at once. */
function mostReverting(run: FlowRun<any>): () => number {
  const reverting = new Set<string>();
  let most = 0;
  run.on('task', ({ task: name, state }) => {
    if (state === 'REVERTING') reverting.add(name);
    else reverting.delete(name);
    most = Math.max(most, reverting.size);
  });
  return () => most;
}

describe('concurrency limit while reverting', () => {
  it('with concurrency 1, reverts independent tasks one at a time', async () => {
    const reverting = new Set<string>();
    let mostRevertsAtOnce = 0;
    const done = (name: string) =>
      task({
        name,
        execute: () => name,
        async revert() {
          reverting.add(name);
          mostRevertsAtOnce = Math.max(mostRevertsAtOnce, reverting.size);
          await new Promise((resolve) => setImmediate(resolve));
          reverting.delete(name);
        },
      });
    const flow = parallel('revert-limited', [
      done('a'),
      done('b'),
      done('c'),
      task({
        name: 'breaks',
        execute: () => {
          throw new Error('breaks');
        },
      }),
    ]);
    const run = newEngine({ concurrency: 1 }).start(flow);
    const most = mostReverting(run);
    expect(await rejectionOf(run.result)).toBeInstanceOf(FlowFailedError);
    expect(run.status).toBe('REVERTED');
    expect(most()).toBe(1);
    expect(mostRevertsAtOnce).toBe(1);
  });
});

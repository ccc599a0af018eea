import { describe, expect, it } from 'vitest';
import { FlowFailedError, linear, parallel, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/**
 * When one step moves more than 8 lanes (MAX_LANES_PER_EVENT), the machine moves them by one event per
 * task instead of one WAKE: ten tasks that become ready, or revertible, at once all start, and all
 * revert. Found by Stryker (issue 16): the per-task REVERT event could be dropped without a failing
 * test, since only the wide-flow test (left out of the mutation run for speed) reverted that many at once.
 */
describe('more than 8 lanes moving in one step', () => {
  it('starts ten ready tasks and later reverts all ten at once', async () => {
    const log: string[] = [];
    const ten = Array.from({ length: 10 }, (_, i) =>
      task({
        name: `t${i}`,
        execute: () => void log.push(`t${i}`),
        revert: () => void log.push(`t${i} reverted`),
      }),
    );
    const flow = linear('wide-step', [
      task({ name: 'first', execute: () => void log.push('first') }),
      parallel('ten', ten),
      task({
        name: 'breaks',
        execute: () => {
          throw new Error('breaks');
        },
      }),
    ]);
    const run = newEngine().start(flow);
    expect(await rejectionOf(run.result)).toBeInstanceOf(FlowFailedError);
    expect(run.status).toBe('REVERTED');
    const names = ten.map((t) => t.name);
    expect(log[0]).toBe('first');
    expect(log.slice(1, 11).sort()).toEqual([...names].sort());
    expect(log.slice(11).sort()).toEqual(names.map((n) => `${n} reverted`).sort());
  });
});

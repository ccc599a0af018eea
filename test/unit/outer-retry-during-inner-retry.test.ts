import { describe, expect, it } from 'vitest';
import { linear, parallel, retry, task } from '../../src/index.js';
import { deferred, newEngine, nextTaskEvent } from './engine-support.js';

/**
 * While an inner scope is being reverted for its retry, a failure elsewhere in an outer scope that
 * contains it is handled by the outer scope: the outer scope (inner one included) is reverted and run
 * again, and the run can still succeed. Only a failure whose scope does not contain the one being
 * retried reverts the whole run (failure-outside-retried-scope.test.ts). Found by Stryker (issue 16):
 * reverting the whole run in both cases survived every test.
 */
describe('a failure in an outer scope while an inner one is retried', () => {
  it('retries the outer scope, and the run succeeds', async () => {
    const log: string[] = [];
    const innerReverting = deferred();
    let innerTries = 0;
    let siblingTries = 0;
    const flow = linear(
      'outer',
      [
        parallel('both', [
          linear(
            'inner',
            [
              task({
                name: 'in-inner',
                execute: () => {
                  innerTries += 1;
                  log.push(`in-inner ${innerTries}`);
                  if (innerTries === 1) throw new Error('inner fails once');
                },
                // Lets the sibling fail now: `inner`'s retry waits for the running sibling, so it fails while
                // the run is still reverting `inner` for its retry.
                revert: async () => {
                  innerReverting.resolve();
                  log.push('in-inner reverted');
                },
              }),
            ],
            { retry: retry.times(2) },
          ),
          task({
            name: 'sibling',
            execute: async () => {
              siblingTries += 1;
              log.push(`sibling ${siblingTries}`);
              if (siblingTries === 1) {
                await innerReverting.promise;
                throw new Error('sibling fails once');
              }
            },
            revert: () => void log.push('sibling reverted'),
          }),
        ]),
      ],
      { retry: retry.times(2) },
    );
    const run = newEngine().start(flow);
    const siblingFailed = nextTaskEvent(run, 'sibling', 'FAILURE');
    await run.result;
    await siblingFailed;
    expect(run.status).toBe('SUCCESS');
    expect(log.filter((l) => l.startsWith('sibling'))).toEqual([
      'sibling 1',
      'sibling reverted',
      'sibling 2',
    ]);
    expect(log.filter((l) => l.startsWith('in-inner')).at(-1)).toBe(`in-inner ${innerTries}`);
  });
});

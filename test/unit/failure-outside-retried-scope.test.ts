import { describe, expect, it } from 'vitest';
import { FlowFailedError, linear, parallel, retry, task } from '../../src/index.js';
import { deferred, newEngine, nextTaskEvent, rejectionOf } from './engine-support.js';

/**
 * While one retry scope is being reverted for its next try, a failure in a task outside it cannot be
 * retried by its own scope (two scopes retrying at once would each revert and re-run half of the
 * other's work): the whole run reverts, nothing executes again, and both failures are reported.
 * Found by Stryker (issue 16): dropping that check survived every test.
 */
describe('a failure outside the scope being retried', () => {
  it('reverts the whole run instead of retrying its own scope too', async () => {
    const log: string[] = [];
    const releaseRevert = deferred();
    const lReverting = deferred();
    const flow = parallel('two-scopes', [
      linear(
        'left',
        [
          task({
            name: 'l',
            execute: () => {
              log.push('l');
              throw new Error('l fails');
            },
            // Held until `r` has failed, so `r` fails while `left` is being reverted for its retry.
            revert: async () => {
              await releaseRevert.promise;
              log.push('l reverted');
            },
          }),
        ],
        { retry: retry.times(2) },
      ),
      linear(
        'right',
        [
          task({
            name: 'r',
            execute: async () => {
              await lReverting.promise;
              log.push('r');
              throw new Error('r fails');
            },
            revert: () => void log.push('r reverted'),
          }),
        ],
        { retry: retry.times(2) },
      ),
    ]);
    const run = newEngine().start(flow);
    void nextTaskEvent(run, 'l', 'REVERTING').then(() => lReverting.resolve());
    await nextTaskEvent(run, 'r', 'FAILURE');
    releaseRevert.resolve();
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error as FlowFailedError).failures.map((f) => f.task)).toEqual(['l', 'r']);
    expect(log.sort()).toEqual(['l', 'l reverted', 'r', 'r reverted']);
    expect(run.status).toBe('REVERTED');
  });
});

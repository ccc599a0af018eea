import { describe, expect, it } from 'vitest';
import { CancelledError, FlowFailedError, linear, parallel, retry, task } from '../../src/index.js';
import { deferred, newEngine, nextTaskEvent, rejectionOf } from './engine-support.js';

/**
 * What a run that is already reverting does with what still arrives: a task that was running fails
 * late (its retry scope is not consulted: the run reverts, it does not retry), and a cancel aborts the
 * executes still running (their `ctx.signal` fires) instead of waiting for them, and reverts them. Found
 * by Stryker (issue 16): dropping either rule survived every test; and before the fix, an execute a
 * cancel aborted while the run reverted was never reverted, though the run ended REVERTED.
 */
describe('a run already reverting', () => {
  it('does not retry the scope of a task that fails after the revert began', async () => {
    const log: string[] = [];
    const lateMayFail = deferred();
    const flow = parallel('late-failure', [
      linear(
        'scope',
        [
          task({
            name: 'late',
            execute: async () => {
              log.push('late');
              await lateMayFail.promise;
              throw new Error('late fails');
            },
            revert: () => void log.push('late reverted'),
          }),
        ],
        { retry: retry.times(3) },
      ),
      task({
        name: 'early',
        execute: () => {
          log.push('early');
          throw new Error('early fails');
        },
      }),
    ]);
    const run = newEngine().start(flow);
    await nextTaskEvent(run, 'early', 'FAILURE');
    lateMayFail.resolve();
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error as FlowFailedError).failures.map((f) => f.task)).toEqual(['early', 'late']);
    expect(log.sort()).toEqual(['early', 'late', 'late reverted']);
    expect(run.status).toBe('REVERTED');
  });

  it('aborts the executes still running when cancelled', async () => {
    const log: string[] = [];
    const slowStarted = deferred();
    const flow = parallel('cancel-while-reverting', [
      task({
        name: 'slow',
        execute: (_args, ctx) =>
          new Promise<void>((_resolve, reject) => {
            log.push('slow');
            slowStarted.resolve();
            ctx.signal.addEventListener('abort', () => {
              log.push('slow aborted');
              reject(ctx.signal.reason);
            });
          }),
        revert: () => void log.push('slow reverted'),
      }),
      task({
        name: 'fails',
        execute: async () => {
          await slowStarted.promise;
          log.push('fails');
          throw new Error('fails');
        },
      }),
    ]);
    const run = newEngine().start(flow);
    await nextTaskEvent(run, 'fails', 'FAILURE');
    expect(run.status).toBe('REVERTING');
    // The revert waits for `slow`, which waits for nothing but an abort.
    await run.cancel();
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(CancelledError);
    expect(log).toEqual(['slow', 'fails', 'slow aborted', 'slow reverted']);
    expect(run.status).toBe('REVERTED');
  });
});

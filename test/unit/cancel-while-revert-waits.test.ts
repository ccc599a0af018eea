import { describe, expect, it } from 'vitest';
import { CancelledError, parallel, task } from '../../src/index.js';
import { deferred, newEngine, rejectionOf } from './engine-support.js';

/**
 * A cancel aborts a running execute at once (its `ctx.signal` fires), even when the concurrency limit
 * makes its revert wait for another revert to finish first. Found by Stryker (issue 16): a lane that
 * stayed in RUNNING after the abort survived, since in the other cancel tests the revert started in
 * the same step and moved the lane anyway.
 */
describe('cancel with a revert waiting for a slot', () => {
  it('aborts the running execute while the revert ahead of its own still holds the slot', async () => {
    const log: string[] = [];
    const executing = deferred();
    const aborted = deferred();
    const firstRevertStarted = deferred();
    const finishFirstRevert = deferred();
    const flow = parallel('cancel-limited', [
      task({
        name: 'done',
        execute: () => void log.push('done'),
        // Holds the only slot until the test lets it go.
        revert: async () => {
          log.push('done reverting');
          firstRevertStarted.resolve();
          await finishFirstRevert.promise;
          log.push('done reverted');
        },
      }),
      task({
        name: 'running',
        execute: (_args, ctx) =>
          new Promise<void>((_resolve, reject) => {
            log.push('running');
            ctx.signal.addEventListener('abort', () => {
              log.push('running aborted');
              aborted.resolve();
              reject(ctx.signal.reason);
            });
            executing.resolve();
          }),
        revert: () => void log.push('running reverted'),
      }),
    ]);
    const run = newEngine({ concurrency: 1 }).start(flow);
    await executing.promise;
    void run.cancel();
    await firstRevertStarted.promise;
    // The abort comes with the cancel, not once the revert ahead of its own has finished (never, here).
    const late = new Promise((resolve) => setTimeout(() => resolve('not aborted'), 2_000).unref());
    expect(await Promise.race([aborted.promise.then(() => 'aborted'), late])).toBe('aborted');
    expect(log).not.toContain('done reverted');
    finishFirstRevert.resolve();
    expect(await rejectionOf(run.result)).toBeInstanceOf(CancelledError);
    expect(log.slice(0, 2)).toEqual(['done', 'running']);
    expect(log.slice(2, 4).sort()).toEqual(['done reverting', 'running aborted']);
    expect(log.slice(4)).toEqual(['done reverted', 'running reverted']);
    expect(run.status).toBe('REVERTED');
  });
});

import { describe, expect, it } from 'vitest';
import { FlowFailedError, linear, task } from '../../src/index.js';
import { deferred, newEngine, nextTaskEvent, rejectionOf } from './engine-support.js';

/**
 * A stored task's `startedAt` and `finishedAt` (`engine.get(id).tasks`) are those of its last execute or
 * revert: while its revert runs, `startedAt` is when the revert started and there is no `finishedAt`;
 * once reverted, both belong to the revert. Found by Stryker (issue 16): a revert that kept its execute's
 * times survived every test.
 */
describe('the stored times of a task being reverted', () => {
  it('are the revert’s: started, no end while it runs, then its end', async () => {
    const releaseRevert = deferred();
    const flow = linear('timed-revert', [
      task({ name: 'a', execute: () => 'a', revert: () => releaseRevert.promise }),
      task({
        name: 'b',
        execute: () => {
          throw new Error('b fails');
        },
      }),
    ]);
    const engine = newEngine();
    const run = engine.start(flow, {}, { id: 'times-1' });
    const aDone = nextTaskEvent(run, 'a', 'SUCCESS');
    const aReverting = nextTaskEvent(run, 'a', 'REVERTING');
    await aDone;
    const afterExecute = (await engine.get('times-1'))!.tasks.a!;
    await aReverting;
    const reverting = (await engine.get('times-1'))!.tasks.a!;
    releaseRevert.resolve();
    expect(await rejectionOf(run.result)).toBeInstanceOf(FlowFailedError);
    const reverted = (await engine.get('times-1'))!.tasks.a!;

    expect(afterExecute.finishedAt).toBeGreaterThanOrEqual(afterExecute.startedAt!);
    expect(reverting.state).toBe('REVERTING');
    expect(reverting.startedAt).toBeGreaterThanOrEqual(afterExecute.finishedAt!);
    expect(reverting).not.toHaveProperty('finishedAt');
    expect(reverted.state).toBe('REVERTED');
    expect(reverted.startedAt).toBe(reverting.startedAt);
    expect(reverted.finishedAt).toBeGreaterThanOrEqual(reverted.startedAt!);
  });
});

import { expect, it } from 'vitest';
import {
  CancelledError,
  FlowFailedError,
  linear,
  parallel,
  RevertFailedError,
  task,
} from '../../src/index.js';
import { untilAborted } from '../support/flows.js';
import { deferred, newEngine, rejectionOf } from './engine-support.js';

/**
 * A failed, cancelled or half-reverted run's message says what was not reverted: tasks that ran but have
 * no revert, and after a revert threw, every task left as it was.
 */
it('names the tasks that ran without a revert; a task that never ran is not named', async () => {
  const flow = linear('half-undoable', [
    task({ name: 'undoable', provides: 'a', execute: () => 1, revert: () => {} }),
    task({ name: 'fire-and-forget', requires: 'a', provides: 'b', execute: () => 2 }),
    task({
      name: 'boom',
      requires: 'b',
      provides: 'c',
      execute: () => {
        throw new Error('boom');
      },
      revert: () => {},
    }),
    task({ name: 'never', requires: 'c', execute: () => 3 }),
  ]);
  const error = (await rejectionOf(newEngine().run(flow))) as FlowFailedError;
  expect(error).toBeInstanceOf(FlowFailedError);
  expect(error.notReverted).toEqual(['fire-and-forget']);
  expect(error.message).toMatch(
    /everything that ran was reverted except `fire-and-forget`, which has no revert: what it did is still there\./,
  );
});

it('says everything was reverted when every task that ran has a revert', async () => {
  const flow = linear('undoable', [
    task({ name: 'a', provides: 'a', execute: () => 1, revert: () => {} }),
    task({
      name: 'b',
      requires: 'a',
      execute: () => {
        throw new Error('no');
      },
      revert: () => {},
    }),
  ]);
  const error = (await rejectionOf(newEngine().run(flow))) as FlowFailedError;
  expect(error.notReverted).toEqual([]);
  expect(error.message).toMatch(/everything that ran was reverted\.$/);
});

it('names, when a revert throws, every task that ran and was not reverted, and none that was', async () => {
  const flow = linear('stuck-revert', [
    task({ name: 'first', provides: 'a', execute: () => 1, revert: () => {} }),
    task({ name: 'no-undo', requires: 'a', provides: 'b', execute: () => 2 }),
    parallel('pair', [
      task({
        name: 'stubborn',
        requires: 'b',
        provides: 'c',
        execute: () => 3,
        revert: () => {
          throw new Error('the cloud said no.');
        },
      }),
      task({ name: 'willing', requires: 'b', provides: 'd', execute: () => 4, revert: () => {} }),
    ]),
    task({
      name: 'boom',
      requires: ['c', 'd'],
      provides: 'e',
      execute: () => {
        throw new Error('boom');
      },
      revert: () => {},
    }),
    task({ name: 'never', requires: 'e', execute: () => 5, revert: () => {} }),
  ]);
  const error = (await rejectionOf(newEngine().run(flow))) as RevertFailedError;
  expect(error).toBeInstanceOf(RevertFailedError);
  // `boom` and `willing` were reverted; `stubborn`'s revert threw, so the tasks before it stay too.
  expect(error.notReverted).toEqual(['first', 'no-undo', 'stubborn']);
  expect(error.message).toContain(
    'revert of `stubborn` threw: the cloud said no. `first`, `no-undo`, `stubborn` were not reverted (what they did may still be there); everything else that ran was. Clean up by hand',
  );
});

it('names the tasks without a revert when a run is cancelled', async () => {
  const started = deferred();
  const flow = linear('cancelled-half', [
    task({ name: 'no-undo', provides: 'a', execute: () => 1 }),
    task({
      name: 'waits',
      requires: 'a',
      execute: (_args, ctx) => {
        started.resolve();
        return untilAborted(ctx.signal);
      },
      revert: () => {},
    }),
  ]);
  const run = newEngine().start(flow, {});
  await started.promise;
  await run.cancel();
  const error = (await rejectionOf(run.result)) as CancelledError;
  expect(error).toBeInstanceOf(CancelledError);
  expect(error.notReverted).toEqual(['no-undo']);
  expect(error.message).toMatch(
    /were aborted and everything that ran was reverted except `no-undo`, which has no revert: what it did is still there\.$/,
  );
});

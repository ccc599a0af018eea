import { expect, it } from 'vitest';
import { FlowFailedError, linear, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/** A failed run's message says what was not reverted: tasks that ran but have no revert. */
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

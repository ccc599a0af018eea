import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compile, FlowFailedError, linear, type RunContext, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/**
 * A run that has ended stays as it ended, whatever command reaches it later: the machine ignores
 * SUSPEND, RESUME and CANCEL once the run is finished, and ROLLBACK once it is REVERTED (a finished
 * SUCCESS or FAILURE run can still be rolled back). The engine checks most of this before sending,
 * but `compile(flow).machine` is public and runs without the engine. Found by Stryker (issue 16).
 */
describe('commands that reach a run after it ended', () => {
  it('leave a finished machine as it ended (suspend, resume, cancel; rollback after REVERTED)', async () => {
    const log: string[] = [];
    const flow = linear('ended', [
      task({ name: 'a', execute: () => void log.push('a'), revert: () => void log.push('a reverted') }),
    ]);
    const actor = createActor(compile(flow).machine, { input: { runId: 'r1', inputs: {}, at: 1 } });
    const ended = new Promise<void>((resolve) =>
      actor.subscribe((s) => (s.context as RunContext).status === 'SUCCESS' && resolve()),
    );
    actor.start();
    await ended;
    const before = actor.getSnapshot().context as RunContext;
    for (const type of ['SUSPEND', 'RESUME', 'CANCEL']) {
      actor.send({ type });
      expect(actor.getSnapshot().context).toEqual(before);
    }
    expect(log).toEqual(['a']);

    // A finished SUCCESS run can still be rolled back; once REVERTED, a second rollback changes nothing.
    const reverted = new Promise<void>((resolve) =>
      actor.subscribe((s) => (s.context as RunContext).status === 'REVERTED' && resolve()),
    );
    actor.send({ type: 'ROLLBACK' });
    await reverted;
    const afterRollback = actor.getSnapshot().context as RunContext;
    actor.send({ type: 'ROLLBACK' });
    expect(actor.getSnapshot().context).toEqual(afterRollback);
    expect(log).toEqual(['a', 'a reverted']);
    actor.stop();
  });

  it('engine.revert of a run that ended REVERTED reverts nothing again', async () => {
    const log: string[] = [];
    const flow = linear('reverted-once', [
      task({ name: 'a', execute: () => void log.push('a'), revert: () => void log.push('a reverted') }),
      task({
        name: 'b',
        execute: () => {
          throw new Error('b fails');
        },
      }),
    ]);
    const engine = newEngine();
    expect(await rejectionOf(engine.run(flow, {}, { id: 'done-r' }))).toBeInstanceOf(FlowFailedError);
    expect(log).toEqual(['a', 'a reverted']);
    await engine.revert('done-r');
    expect(log).toEqual(['a', 'a reverted']);
    expect((await engine.get('done-r'))?.meta.status).toBe('REVERTED');
  });
});

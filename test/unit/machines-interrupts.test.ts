import { describe, expect, it } from 'vitest';
import {
  ActionTimeoutError,
  type CancelInput,
  type LifecycleAction,
  type LifecycleDefinition,
  lifecycle,
  memoryLifecycleStore,
  runLifecycle,
  stateName,
} from '../../machines/index.js';
import { deferred } from '../support/flows.js';
import { fakeActions } from './machines-support.js';

/**
 * A small table with the table features under test: a common DELETE (any state) and RESET_STATE
 * (in-progress states) interrupting actions, a timeout on `warm`, and its error going back to where
 * the operation started.
 */
const lamp = {
  id: 'lamp',
  initial: 'off',
  states: {
    off: { description: 'dark', on: { SWITCH_ON: ['warming', 'a user wants light'] } },
    dimmed: { description: 'low light', on: { SWITCH_ON: ['warming', 'a user wants full light'] } },
    warming: {
      description: 'heating the filament',
      action: 'warm',
      timeoutMs: 60_000,
      done: ['on', 'the filament glows'],
      error: [
        ['off', 'warming failed: back to dark', { when: { from: 'off' } }],
        ['dimmed', 'warming failed: back to low light', { when: { from: 'dimmed' } }],
      ],
    },
    on: { description: 'lit', on: { DIM: ['dimmed', 'a user lowers the light'] } },
    removing: {
      description: 'unscrewing',
      action: 'remove',
      done: ['gone', 'unscrewed'],
      error: ['broken', 'stuck in the socket'],
    },
    broken: { description: 'needs a hand', on: {} },
    gone: { description: 'gone', final: true },
  },
  common: {
    DELETE: { from: 'any', except: ['removing'], to: ['removing', 'a user removes the lamp from anywhere'] },
    RESET_STATE: {
      from: 'in-progress',
      to: [
        ['off', 'an admin marks it dark'],
        ['broken', 'an admin marks it broken'],
      ],
    },
  },
} as const satisfies LifecycleDefinition;
const lampMachine = lifecycle(lamp);

/** Actions that wait to be settled, each with a `cancel` that records what it was asked to undo. */
function cancellable(cancelled: CancelInput[], gate?: Promise<void>) {
  const fakes = fakeActions(['warm', 'remove']);
  for (const action of Object.values(fakes.actions) as LifecycleAction[]) {
    action.cancel = async (input) => {
      await gate;
      cancelled.push(input);
    };
  }
  return fakes;
}

describe('interrupts', () => {
  it('DELETE while an action runs: the snapshot records what to cancel, and the next action waits for it', async () => {
    const store = memoryLifecycleStore();
    const cancelled: CancelInput[] = [];
    const gate = deferred();
    const fakes = cancellable(cancelled, gate.promise);
    const run = await runLifecycle(lampMachine, { resourceId: 'l-1', actions: fakes.actions, store });
    await run.send({ type: 'SWITCH_ON' });
    const warm = await fakes.next('warm');

    const moved = await run.send({ type: 'DELETE' });
    expect(warm.signal.aborted).toBe(true);
    expect(stateName(moved)).toBe('removing');
    const interrupted = { action: 'warm', key: 'l-1:warm:1', state: 'warming', by: 'DELETE' };
    expect(moved.context.interrupted).toEqual([interrupted]);
    expect(await store.load('l-1')).toMatchObject({ context: { interrupted: [interrupted] } });

    // remove has not started: the warm run is still being cancelled.
    let removeStarted = false;
    const remove = fakes.next('remove').then((call) => {
      removeStarted = true;
      return call;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(removeStarted).toBe(false);
    gate.resolve();
    (await remove).resolve(undefined);
    const done = await run.settled();
    expect(stateName(done)).toBe('gone');
    expect(cancelled).toEqual([{ resourceId: 'l-1', action: 'warm', key: 'l-1:warm:1', state: 'warming' }]);
    await run.stop();
  });

  it('a restored runner cancels what the dead one left to cancel, then runs the next action', async () => {
    const store = memoryLifecycleStore();
    const firstCancels: CancelInput[] = [];
    const first = cancellable(firstCancels, new Promise(() => {})); // its cancel never finishes
    const a = await runLifecycle(lampMachine, { resourceId: 'l-2', actions: first.actions, store });
    await a.send({ type: 'SWITCH_ON' });
    await first.next('warm');
    await a.send({ type: 'RESET_STATE', state: 'broken' });
    await a.stop(); // dies while cancelling warm's run, in a stable state

    const cancelled: CancelInput[] = [];
    const second = cancellable(cancelled);
    const b = await runLifecycle(lampMachine, { resourceId: 'l-2', actions: second.actions, store });
    const settled = await b.settled();
    expect(stateName(settled)).toBe('broken');
    expect(settled.context.interrupted).toEqual([]);
    expect(cancelled.map((c) => c.key)).toEqual(['l-2:warm:1']);
    expect(await store.load('l-2')).toMatchObject({ value: 'broken', context: { interrupted: [] } });
    await b.stop();
  });

  it('a cancel that fails is recorded as the resource’s error, and does not block it', async () => {
    const fakes = fakeActions(['warm', 'remove']);
    (fakes.actions.warm as LifecycleAction).cancel = async () => {
      throw new Error('revert of warm failed');
    };
    const run = await runLifecycle(lampMachine, {
      resourceId: 'l-3',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'SWITCH_ON' });
    await fakes.next('warm');
    await run.send({ type: 'RESET_STATE', state: 'off' });
    const settled = await run.settled();
    expect(settled.context.interrupted).toEqual([]);
    expect(settled.context.error).toMatchObject({
      action: 'warm',
      state: 'warming',
      failure: { message: 'revert of warm failed' },
    });
    await run.stop();
  });

  it('an event back to its own in-progress state restarts the action: the running one is cancelled first, also after a restore', async () => {
    const again = lifecycle({
      ...lamp,
      common: {
        ...lamp.common,
        DELETE: { from: 'any', to: ['removing', 'a user removes the lamp from anywhere, again if it hangs'] },
      },
    });
    const store = memoryLifecycleStore();
    const cancelled: CancelInput[] = [];
    const first = cancellable(cancelled, new Promise(() => {})); // its cancel never finishes
    const a = await runLifecycle(again, { resourceId: 'l-5', actions: first.actions, store });
    await a.send({ type: 'DELETE' });
    const hung = await first.next('remove');
    expect(hung.input.key).toBe('l-5:remove:1');

    const restarted = await a.send({ type: 'DELETE' });
    expect(stateName(restarted)).toBe('removing');
    expect(hung.signal.aborted).toBe(true);
    expect(restarted.context.interrupted).toEqual([
      { action: 'remove', key: 'l-5:remove:1', state: 'removing', by: 'DELETE' },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.calls.map((c) => c.input.key)).toEqual(['l-5:remove:1']); // waits for the cancel
    await a.stop(); // dies while cancelling the first run

    const second = cancellable(cancelled);
    const b = await runLifecycle(again, { resourceId: 'l-5', actions: second.actions, store });
    const remove = await second.next('remove');
    expect(cancelled.map((c) => c.key)).toEqual(['l-5:remove:1']); // cancelled before the new run started
    expect(remove.input.key).toBe('l-5:remove:2');
    remove.resolve(undefined);
    expect(stateName(await b.settled())).toBe('gone');
    expect(second.calls).toHaveLength(1);
    await b.stop();
  });

  it('refuses the runner’s own events from a caller', async () => {
    const run = await runLifecycle(lampMachine, {
      resourceId: 'l-4',
      actions: fakeActions(['warm', 'remove']).actions,
      store: memoryLifecycleStore(),
    });
    await expect(run.send({ type: 'lifecycle.cancelled', key: 'x' })).rejects.toThrow(
      'Resource `l-4` is `off`, which does not accept `lifecycle.cancelled`. Allowed now: `SWITCH_ON`, `DELETE`.',
    );
    await run.stop();
  });
});

describe('timeouts', () => {
  const quick = { ...lamp, states: { ...lamp.states, warming: { ...lamp.states.warming, timeoutMs: 50 } } };
  const quickMachine = lifecycle(quick);

  it('a hung action times out to its error transition, aborted with ActionTimeoutError, its run cancelled', async () => {
    const cancelled: CancelInput[] = [];
    const fakes = cancellable(cancelled);
    const store = memoryLifecycleStore();
    const run = await runLifecycle(quickMachine, { resourceId: 't-1', actions: fakes.actions, store });
    const before = Date.now();
    await run.send({ type: 'SWITCH_ON' });
    const { context } = run.getSnapshot();
    expect(context.deadline).toBeGreaterThanOrEqual(before + 50);
    expect(await store.load('t-1')).toMatchObject({ context: { deadline: context.deadline } });
    const warm = await fakes.next('warm'); // never settled: hung

    const settled = await run.settled();
    expect(Date.now()).toBeGreaterThanOrEqual(context.deadline!);
    expect(stateName(settled)).toBe('off'); // the error row for an operation started in `off`
    expect(warm.signal.reason).toBeInstanceOf(ActionTimeoutError);
    expect(settled.context.error).toMatchObject({
      action: 'warm',
      state: 'warming',
      failure: { name: 'ActionTimeoutError', fields: { timeoutMs: 50, action: 'warm' } },
    });
    expect(cancelled.map((c) => c.key)).toEqual(['t-1:warm:1']);
    expect(settled.context.deadline).toBeNull();
    await run.stop();
  });

  it('the stored deadline fires after a restore: a runner restored past it times out without re-running', async () => {
    const store = memoryLifecycleStore();
    const first = cancellable([]);
    const a = await runLifecycle(lampMachine, { resourceId: 't-2', actions: first.actions, store });
    await a.send({ type: 'DIM' }).catch(() => {}); // not allowed in `off`: nothing changes
    await a.send({ type: 'SWITCH_ON' });
    await first.next('warm');
    await a.stop();
    // Time passes while no runner is alive: the stored deadline is now behind us.
    const stored = (await store.load('t-2')) as {
      context: { deadline: number };
      children: { warm: { snapshot: { input: { deadline: number } } } };
    };
    stored.context.deadline = Date.now() - 1;
    stored.children.warm.snapshot.input.deadline = stored.context.deadline; // what the action re-runs with
    await store.save('t-2', stored);

    const cancelled: CancelInput[] = [];
    const second = cancellable(cancelled);
    const b = await runLifecycle(lampMachine, { resourceId: 't-2', actions: second.actions, store });
    const settled = await b.settled();
    expect(stateName(settled)).toBe('off');
    expect(settled.context.error?.failure.name).toBe('ActionTimeoutError');
    expect(second.calls).toEqual([]); // warm did not run again
    expect(cancelled.map((c) => c.key)).toEqual(['t-2:warm:1']);
    await b.stop();
  });

  it('a restored runner waits out what is left of the deadline', async () => {
    // Long enough that the restore below comes before the deadline on a loaded CI (50 ms did not: the
    // runner, restored past it, rightly did not run the action again, and the test waited for that run).
    const slow = lifecycle({
      ...lamp,
      states: { ...lamp.states, warming: { ...lamp.states.warming, timeoutMs: 1_500 } },
    });
    const store = memoryLifecycleStore();
    const first = cancellable([]);
    const a = await runLifecycle(slow, { resourceId: 't-3', actions: first.actions, store });
    await a.send({ type: 'SWITCH_ON' });
    const deadline = a.getSnapshot().context.deadline!;
    await first.next('warm');
    await a.stop();
    const second = cancellable([]);
    const b = await runLifecycle(slow, { resourceId: 't-3', actions: second.actions, store });
    await second.next('warm'); // re-run with the same key, under the same deadline
    const settled = await b.settled();
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    expect(stateName(settled)).toBe('off');
    await b.stop();
  });
});

describe('context guards', () => {
  it('the error of an operation goes back to where it started (from-guard)', async () => {
    const fakes = fakeActions(['warm', 'remove']);
    const run = await runLifecycle(lampMachine, {
      resourceId: 'g-1',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'SWITCH_ON' });
    (await fakes.next('warm')).resolve(undefined);
    await run.settled();
    await run.send({ type: 'DIM' });
    await run.send({ type: 'SWITCH_ON' });
    (await fakes.next('warm')).reject(new Error('filament burnt'));
    expect(stateName(await run.settled())).toBe('dimmed');
    await run.stop();
  });

  /** A shelf of items: ADD counts, TAKE leaves `stocked` or `empty` by the count, SPILL by the failure. */
  const shelf = {
    id: 'shelf',
    initial: 'empty',
    facts: { items: 0, fragile: false },
    states: {
      empty: {
        description: 'nothing on it',
        on: {
          ADD: ['adding', 'put an item on', { set: { fragile: { field: 'fragile', otherwise: false } } }],
        },
      },
      adding: {
        description: 'placing an item',
        action: 'place',
        done: ['stocked', 'placed', { set: { items: { add: 1 } } }],
        error: [
          ['spilled', 'a fragile item broke', { when: { failed: 'BrokenError' } }],
          ['empty', 'nothing was placed', { when: { fact: 'items', atMost: 0 } }],
          ['stocked', 'nothing was placed; the others are still there'],
        ],
      },
      stocked: {
        description: 'has items',
        on: {
          ADD: [['adding', 'put another item on', { when: { field: 'careful', is: true } }]],
          TAKE: [
            [
              'stocked',
              'others remain',
              { when: { fact: 'items', atLeast: 2 }, set: { items: { add: -1 } } },
            ],
            ['empty', 'the last item is taken', { when: { fact: 'items', atMost: 1 }, set: { items: 0 } }],
          ],
        },
      },
      spilled: { description: 'mess', on: { CLEAN: ['empty', 'mopped', { set: { items: 0 } }] } },
    },
  } as const satisfies LifecycleDefinition;

  it('facts count and choose: TAKE leaves stocked or empty by the count; a field and a failure guard', async () => {
    const fakes = fakeActions(['place']);
    const run = await runLifecycle(lifecycle(shelf), {
      resourceId: 'g-2',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'ADD', fragile: true });
    expect(run.getSnapshot().context.facts).toEqual({ items: 0, fragile: true });
    (await fakes.next('place')).resolve(undefined);
    expect(stateName(await run.settled())).toBe('stocked');
    await expect(run.send({ type: 'ADD' })).rejects.toThrow('does not accept `ADD`'); // guard fails: refused
    await run.send({ type: 'ADD', careful: true });
    (await fakes.next('place')).resolve(undefined);
    expect((await run.settled()).context.facts.items).toBe(2);
    await run.send({ type: 'TAKE' });
    expect(stateName(run.getSnapshot())).toBe('stocked');
    await run.send({ type: 'TAKE' });
    expect(run.getSnapshot()).toMatchObject({ value: 'empty', context: { facts: { items: 0 } } });

    await run.send({ type: 'ADD' });
    (await fakes.next('place')).reject(new Error('slipped'));
    expect(stateName(await run.settled())).toBe('empty');
    await run.send({ type: 'ADD' });
    const broken = Object.assign(new Error('glass'), { name: 'BrokenError' });
    (await fakes.next('place')).reject(new Error('place failed', { cause: broken }));
    expect(stateName(await run.settled())).toBe('spilled'); // matched on the cause
    await run.stop();
  });

  it('refuses choices that may match no row, and guards that cannot work', () => {
    const bad = {
      id: 'bad',
      initial: 'a',
      states: {
        a: { description: 'a', on: { GO: ['b', 'go'], FAIL: ['a', 'x', { when: { failed: 'X' } }] } },
        c: { description: 'c', on: { GO: ['b', 'go'] } },
        b: {
          description: 'busy',
          action: 'work',
          done: [['a', 'from a', { when: { from: 'a' } }]],
          error: [
            ['a', 'fallback'],
            ['c', 'counted', { when: { fact: 'n' } }],
          ],
          on: { STOP: ['b', 'restart'] }, // allowed: it restarts the action
        },
      },
    } as const satisfies LifecycleDefinition;
    expect(() => lifecycle(bad)).toThrow(
      'Expected a consistent lifecycle table for `bad`, got: event `FAIL` of `a` guards on a failure, which only `error` has; ' +
        '`done` of `b` may match no row (operations start in a, c, b; not covered: c, b): end it with an unguarded row; ' +
        '`error` of `b` has an unguarded row before the last; ' +
        'a guard of `b` on fact `n` has no `is`, `atLeast` or `atMost`.',
    );
  });
});

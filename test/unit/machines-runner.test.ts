import { describe, expect, it } from 'vitest';
import {
  type ActionInput,
  type LifecycleAction,
  LifecycleDefinitionError,
  LifecycleEventError,
  LifecycleStoppedError,
  type LifecycleStore,
  lifecycle,
  memoryLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverMachine,
  serverStatus,
  stackLifecycle,
  stackMachine,
  stackStatus,
  stateName,
  volumeLifecycle,
  volumeMachine,
} from '../../machines/index.js';
import { actionNames } from '../../machines/table.js';
import { SnapshotCorruptError } from '../../src/errors.js';
import { fakeActions } from './machines-support.js';

/** Actions that succeed at once, logging `name key`. */
function instantActions(names: readonly string[], log: string[]): Record<string, LifecycleAction> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      async (input: ActionInput) => {
        log.push(`${name} ${input.key}`);
        return { [name]: 'ok' };
      },
    ]),
  );
}

const serverActions = actionNames(serverLifecycle);

describe('runLifecycle', () => {
  it('survives a restart: an in-flight create re-runs with its input, then stop → start → delete', async () => {
    const store = memoryLifecycleStore();
    const fakes = fakeActions(serverActions);
    const first = await runLifecycle(serverMachine, { resourceId: 'srv-1', actions: fakes.actions, store });
    await first.send({ type: 'CREATE', flavor: 'm1.small' });
    const inFlight = await fakes.next('create');
    expect(await store.load('srv-1')).toMatchObject({
      value: 'BUILDING',
      children: { create: { src: 'create' } },
    });

    await first.stop(); // the process "dies" with create running
    expect(inFlight.signal.aborted).toBe(true);
    await expect(first.settled()).rejects.toBeInstanceOf(LifecycleStoppedError);

    const log: string[] = [];
    const second = await runLifecycle(serverMachine, {
      resourceId: 'srv-1',
      actions: instantActions(serverActions, log),
      store,
    });
    expect(stateName(second.getSnapshot())).toBe('BUILDING');
    expect(stateName(await second.settled())).toBe('ACTIVE');
    expect(log).toEqual([`create ${inFlight.input.key}`]); // same key: the engine resumes the same flow run
    expect(second.getSnapshot().context.request).toEqual({ type: 'CREATE', flavor: 'm1.small' });

    for (const [event, state] of [
      ['STOP', 'STOPPED'],
      ['START', 'ACTIVE'],
      ['DELETE', 'DELETED'],
    ] as const) {
      await second.send({ type: event });
      expect(stateName(await second.settled())).toBe(state);
    }
    expect(log).toEqual([
      'create srv-1:create:1',
      'stop srv-1:stop:2',
      'start srv-1:start:3',
      'delete srv-1:delete:4',
    ]);
    expect(await store.load('srv-1')).toMatchObject({ status: 'done', value: 'DELETED' });
    await second.stop();
  });

  it('records a failed create in context and ends in ERROR; an admin reset and a start clear it', async () => {
    const store = memoryLifecycleStore();
    const actions = instantActions(serverActions, []);
    actions.create = async () => {
      throw new TypeError('no valid host was found');
    };
    const run = await runLifecycle(serverMachine, { resourceId: 'srv-2', actions, store });
    await run.send({ type: 'CREATE' });
    const failed = await run.settled();
    expect(stateName(failed)).toBe('ERROR');
    expect(serverStatus(failed)).toEqual({ vm_state: 'error', task_state: null });
    expect(failed.context.error).toMatchObject({
      action: 'create',
      state: 'BUILDING',
      failure: { name: 'TypeError', message: 'no valid host was found' },
    });
    expect(await store.load('srv-2')).toMatchObject({ context: { error: { action: 'create' } } });

    await expect(run.send({ type: 'START' })).rejects.toThrow(LifecycleEventError);
    await run.send({ type: 'RESET_STATE', state: 'STOPPED' });
    expect(stateName(run.getSnapshot())).toBe('STOPPED');
    await run.send({ type: 'START' });
    const started = await run.settled();
    expect(stateName(started)).toBe('ACTIVE');
    expect(started.context.error).toBeNull();
    await run.stop();
  });

  it('starts an action only after the snapshot showing it in progress is saved', async () => {
    const order: string[] = [];
    let release = () => {};
    let saving = () => {};
    const savingBuilding = new Promise<void>((resolve) => (saving = resolve));
    const inner = memoryLifecycleStore();
    const store: LifecycleStore = {
      load: (id) => inner.load(id),
      async save(id, snapshot) {
        const value = (snapshot as { value: string }).value;
        if (value === 'BUILDING') {
          saving();
          await new Promise<void>((resolve) => (release = resolve));
        }
        order.push(`saved ${value}`);
        await inner.save(id, snapshot);
      },
    };
    const actions = instantActions(serverActions, order);
    const run = await runLifecycle(serverMachine, { resourceId: 'srv-3', actions, store });
    const sent = run.send({ type: 'CREATE' });
    await savingBuilding;
    expect(order).toEqual(['saved INIT']); // the save of BUILDING is under way, and create waits for it
    release();
    await sent;
    expect(stateName(await run.settled())).toBe('ACTIVE');
    expect(order).toEqual(['saved INIT', 'saved BUILDING', 'create srv-3:create:1', 'saved ACTIVE']);
    await run.stop();
  });

  it('aborts a running action when the table lets the resource move on (DELETE while BUILDING)', async () => {
    const fakes = fakeActions(serverActions);
    const run = await runLifecycle(serverMachine, {
      resourceId: 'srv-4',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'CREATE' });
    const create = await fakes.next('create');
    await run.send({ type: 'DELETE' });
    expect(create.signal.aborted).toBe(true);
    expect(serverStatus(run.getSnapshot())).toEqual({ vm_state: 'building', task_state: 'deleting' });
    (await fakes.next('delete')).resolve(undefined);
    expect(stateName(await run.settled())).toBe('DELETED');
    await run.stop();
  });

  it('refuses events the state does not allow, naming what is allowed', async () => {
    const fakes = fakeActions(serverActions);
    const run = await runLifecycle(serverMachine, {
      resourceId: 'srv-5',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await expect(run.send({ type: 'STOP' })).rejects.toThrow(
      'Resource `srv-5` is `INIT`, which does not accept `STOP`. Allowed now: `CREATE`.',
    );
    await run.send({ type: 'CREATE' });
    (await fakes.next('create')).resolve(undefined);
    await run.settled();
    await run.send({ type: 'STOP' });
    await expect(run.send({ type: 'START' })).rejects.toThrow(
      'Allowed now: nothing (an action is running, or the resource is gone).',
    );
    await run.stop();
  });

  it('checks the actions it is given and the snapshot it loads', async () => {
    const store = memoryLifecycleStore();
    const { create: _, ...missing } = instantActions(serverActions, []);
    await expect(
      runLifecycle(serverMachine, { resourceId: 'x', actions: { ...missing, boot: async () => 1 }, store }),
    ).rejects.toThrow(
      'Expected one function per action of lifecycle `server` (create, stop, start, pause, unpause, resize_prep, resize_migrate, resize_finish, confirm_resize, revert_resize, delete), got none for create and unknown boot.',
    );
    const actions = instantActions(serverActions, []);
    await store.save('foreign', { status: 'active', value: 'available', context: { resourceId: 'foreign' } });
    await store.save('other', { status: 'active', value: 'ACTIVE', context: { resourceId: 'srv-9' } });
    await store.save('errored', { status: 'error', value: 'ACTIVE', context: { resourceId: 'errored' } });
    for (const [id, detail] of [
      ['foreign', 'state `available` is not a state of `server`'],
      ['other', 'it belongs to `srv-9`'],
      ['errored', 'status is `error`'],
    ]) {
      const failure = runLifecycle(serverMachine, { resourceId: id!, actions, store });
      await expect(failure).rejects.toBeInstanceOf(SnapshotCorruptError);
      await expect(failure).rejects.toThrow(detail!);
    }
  });

  it('stops at once when the store fails, without starting the action', async () => {
    const log: string[] = [];
    const inner = memoryLifecycleStore();
    const store: LifecycleStore = {
      load: (id) => inner.load(id),
      async save(id, snapshot) {
        if ((snapshot as { value: string }).value === 'BUILDING') throw new Error('redis is down');
        await inner.save(id, snapshot);
      },
    };
    const run = await runLifecycle(serverMachine, {
      resourceId: 'srv-6',
      actions: instantActions(serverActions, log),
      store,
    });
    const sent = run.send({ type: 'CREATE' });
    await expect(sent).rejects.toThrow('redis is down');
    await expect(run.settled()).rejects.toMatchObject({
      name: 'LifecycleStoppedError',
      cause: { message: 'redis is down' },
    });
    expect(log).toEqual([]);
    expect(await store.load('srv-6')).toMatchObject({ value: 'INIT' });
    await run.stop();
  });
});

describe('volume and stack lifecycles', () => {
  it('rolls a failed attach back to available', async () => {
    const actions = instantActions(actionNames(volumeLifecycle), []);
    actions.attach = async () => {
      throw new Error('iSCSI target unreachable');
    };
    const run = await runLifecycle(volumeMachine, {
      resourceId: 'vol-1',
      actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'CREATE', size: 10 });
    await run.settled();
    await run.send({ type: 'ATTACH', server: 'srv-1' });
    const snapshot = await run.settled();
    expect(stateName(snapshot)).toBe('available');
    expect(snapshot.context.error?.failure.message).toBe('iSCSI target unreachable');
    await run.stop();
  });

  it('rolls a cancelled update back, telling the rollback where it started', async () => {
    const fakes = fakeActions(actionNames(stackLifecycle));
    const run = await runLifecycle(stackMachine, {
      resourceId: 'stack-1',
      actions: fakes.actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'CREATE' });
    (await fakes.next('create')).resolve({ resources: 3 });
    await run.settled();
    await run.send({ type: 'UPDATE', template: 'v2' });
    const update = await fakes.next('update');
    await run.send({ type: 'CANCEL' });
    expect(update.signal.aborted).toBe(true);
    expect(stackStatus(run.getSnapshot())).toEqual({ action: 'ROLLBACK', status: 'IN_PROGRESS' });
    const rollback = await fakes.next('rollback');
    expect(rollback.input).toMatchObject({
      action: 'rollback',
      event: { type: 'CANCEL' },
      context: { from: 'UPDATE_IN_PROGRESS' },
    });
    rollback.resolve(undefined);
    expect(stackStatus(await run.settled())).toEqual({ action: 'ROLLBACK', status: 'COMPLETE' });
    await run.stop();
  });
});

describe('lifecycle()', () => {
  it('refuses an inconsistent table, naming every problem', () => {
    expect(() =>
      lifecycle({
        id: 'lamp',
        initial: 'off',
        states: {
          off: { description: 'dark', on: { SWITCH_ON: ['warming', 'user wants light'] } },
          warming: { description: 'heating', action: 'warm', done: ['lit', 'warm'] },
          on: { description: 'lit' },
          gone: { description: 'gone', final: true, on: { X: ['off', ''] } },
        },
      }),
    ).toThrow(
      new LifecycleDefinitionError('lamp', [
        'in-progress state `warming` needs both `done` and `error`',
        '`warming` goes to unknown state `lit` (known: off, warming, on, gone)',
        'stable state `on` accepts no event: a dead end that is not final',
        'final state `gone` has transitions or an action',
        'a transition of `gone` to `off` has no reason',
      ]),
    );
  });
});

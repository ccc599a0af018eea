import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type ActionInput,
  type LifecycleAction,
  type LifecycleDefinition,
  LifecycleDefinitionError,
  LifecycleEventError,
  LifecycleStoppedError,
  type LifecycleStore,
  lifecycle,
  memoryLifecycleStore,
  runLifecycle,
  type ServerState,
  type StateOf,
  serverLifecycle,
  serverMachine,
  serverStatus,
  stackLifecycle,
  stackMachine,
  stackStatus,
  stateName,
  volumeLifecycle,
  volumeMachine,
  volumeStatus,
} from '../../machines/index.js';
import { actionNames } from '../../machines/table.js';
import { InvalidOptionError, SnapshotCorruptError } from '../../src/errors.js';
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
    await expect(run.send({ type: 'RESET_STATE', state: 'STOPPED' })).rejects.toThrow(
      'does not accept `RESET_STATE`',
    ); // Nova resets to active or error only
    await run.send({ type: 'RESET_STATE', state: 'ACTIVE' });
    expect(serverStatus(run.getSnapshot())).toEqual({ vm_state: 'active', task_state: null });
    await run.send({ type: 'STOP' });
    const stopped = await run.settled();
    expect(stateName(stopped)).toBe('STOPPED');
    expect(stopped.context.error).toBeNull();
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
    // While it powers off, only the interrupts Nova allows in any task state.
    await expect(run.send({ type: 'START' })).rejects.toThrow(
      'Resource `srv-5` is `POWERING_OFF`, which does not accept `START`. Allowed now: `DELETE`, `RESET_STATE`, `SOFT_DELETE`.',
    );
    (await fakes.next('stop')).resolve(undefined);
    await run.send({ type: 'DELETE' });
    (await fakes.next('delete')).resolve(undefined);
    await run.settled();
    await expect(run.send({ type: 'START' })).rejects.toThrow(
      'Allowed now: nothing (an action is running, or the resource is gone).',
    );
    await run.stop();
  });

  it('checks the actions it is given and the snapshot it loads', async () => {
    const store = memoryLifecycleStore();
    const { create: _, ...missing } = instantActions(serverActions, []);
    const wrongActions = await runLifecycle(serverMachine, {
      resourceId: 'x',
      actions: { ...missing, boot: async () => 1 },
      store,
    }).catch((error: unknown) => error);
    // Bad options are one class everywhere (InvalidOptionError), here as in the engine and the stores.
    expect(wrongActions).toBeInstanceOf(InvalidOptionError);
    expect((wrongActions as Error).message).toBe(
      `Expected \`actions\` to be one function per action of lifecycle \`server\` (${serverActions.join(', ')}), got none for create and unknown boot`,
    );
    const { delete: _delete, ...withoutDelete } = memoryLifecycleStore();
    const noDelete = await runLifecycle(serverMachine, {
      resourceId: 'y',
      actions: instantActions(serverActions, []),
      store: withoutDelete,
      deleteWhenFinal: true,
    }).catch((error: unknown) => error);
    expect(noDelete).toBeInstanceOf(InvalidOptionError);
    expect((noDelete as Error).message).toBe(
      'Expected `store` to be a store with `delete` (for `deleteWhenFinal: true`), got one without',
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

describe('the three machines’ context guards', () => {
  const instant = (definition: LifecycleDefinition) => instantActions(actionNames(definition), []);

  it('a multiattach volume counts its attachments: detach leaves in-use until the last one', async () => {
    const run = await runLifecycle(volumeMachine, {
      resourceId: 'vol-m',
      actions: instant(volumeLifecycle),
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'CREATE', multiattach: true });
    await run.settled();
    for (const server of ['srv-1', 'srv-2']) {
      await run.send({ type: 'ATTACH', server });
      expect(volumeStatus(await run.settled())).toEqual({ status: 'in-use', migration_status: null });
    }
    await run.send({ type: 'RESERVE' }); // a third server, through the attachments API
    expect(stateName(run.getSnapshot())).toBe('reserved');
    await run.send({ type: 'UNRESERVE' });
    expect(run.getSnapshot()).toMatchObject({ value: 'in-use', context: { facts: { attachments: 2 } } });
    await run.send({ type: 'DETACH' });
    expect(stateName(await run.settled())).toBe('in-use');
    await expect(run.send({ type: 'FORCE_DELETE' })).rejects.toThrow(LifecycleEventError); // attached
    await run.send({ type: 'DETACH' });
    expect((await run.settled()).context.facts).toEqual({ attachments: 0, multiattach: true });
    expect(stateName(run.getSnapshot())).toBe('available');
    await run.send({ type: 'MIGRATE' });
    expect(volumeStatus(run.getSnapshot())).toEqual({ status: 'available', migration_status: 'migrating' });
    await run.settled();
    await run.stop();
  });

  it('a single-attach volume refuses a second server; a busy delete goes back to available', async () => {
    const actions = instant(volumeLifecycle);
    const failures = [
      Object.assign(new Error('volume has snapshots being created'), { name: 'VolumeIsBusy' }),
      new Error('backend unreachable'),
    ];
    actions.delete = async () => {
      throw failures.shift();
    };
    const run = await runLifecycle(volumeMachine, {
      resourceId: 'vol-s',
      actions,
      store: memoryLifecycleStore(),
    });
    await run.send({ type: 'CREATE' });
    await run.settled();
    await run.send({ type: 'ATTACH' });
    await run.settled();
    // Its guard (multiattach) refuses a second server.
    await expect(run.send({ type: 'ATTACH' })).rejects.toThrow('`in-use`, which does not accept `ATTACH`');
    await run.send({ type: 'DETACH' });
    await run.settled();
    await run.send({ type: 'DELETE' });
    expect(stateName(await run.settled())).toBe('available');
    await run.send({ type: 'DELETE' });
    expect(stateName(await run.settled())).toBe('error_deleting');
    await expect(run.send({ type: 'DELETE' })).rejects.toThrow(
      'Allowed now: `RESET_STATE`, `FORCE_DELETE`.', // Cinder refuses a plain delete from error_deleting
    );
    await run.stop();
  });

  it('Heat rolls a failed create back on its own only when rollback is enabled', async () => {
    for (const [disable_rollback, expected] of [
      [undefined, 'CREATE_FAILED'],
      [false, 'ROLLBACK_COMPLETE'],
    ] as const) {
      const actions = instant(stackLifecycle);
      actions.create = async () => {
        throw new Error('OS::Nova::Server failed');
      };
      const run = await runLifecycle(stackMachine, {
        resourceId: `st-${expected}`,
        actions,
        store: memoryLifecycleStore(),
      });
      await run.send({ type: 'CREATE', ...(disable_rollback === undefined ? {} : { disable_rollback }) });
      expect(stateName(await run.settled())).toBe(expected);
      await run.stop();
    }
  });

  it('Nova: a resize of a stopped server confirms back to STOPPED; a snapshot returns where it began', async () => {
    const run = await runLifecycle(serverMachine, {
      resourceId: 'srv-r',
      actions: instant(serverLifecycle),
      store: memoryLifecycleStore(),
    });
    for (const event of ['CREATE', 'STOP', 'RESIZE']) {
      await run.send({ type: event });
      await run.settled();
    }
    expect(run.getSnapshot()).toMatchObject({
      value: 'RESIZED',
      context: { facts: { old_vm_state: 'STOPPED' } },
    });
    await run.send({ type: 'CONFIRM_RESIZE' });
    expect(stateName(await run.settled())).toBe('STOPPED');
    await run.send({ type: 'SNAPSHOT' });
    expect(serverStatus(run.getSnapshot())).toEqual({ vm_state: 'stopped', task_state: 'image_snapshot' });
    expect(stateName(await run.settled())).toBe('STOPPED');
    await run.send({ type: 'REBOOT', hard: true });
    expect(stateName(await run.settled())).toBe('ACTIVE');
    await run.stop();
  });
});

describe('a user-extended server table', () => {
  /** Nova's table plus a MAINTENANCE task an operator added, with its own vm_state. */
  const myServer = {
    ...serverLifecycle,
    id: 'my-server',
    states: {
      ...serverLifecycle.states,
      ACTIVE: {
        ...serverLifecycle.states.ACTIVE,
        on: { ...serverLifecycle.states.ACTIVE.on, DRAIN: ['DRAINING', 'an operator drains the host'] },
      },
      DRAINING: {
        description: 'moving workloads away',
        meta: { task_state: 'draining' },
        action: 'drain',
        timeoutMs: 600_000,
        done: ['MAINTENANCE', 'drained'],
        error: ['ACTIVE', 'drain failed; still serving'],
      },
      MAINTENANCE: {
        description: 'out of service',
        meta: { vm_state: 'maintenance', task_state: null },
        on: { RETURN: ['ACTIVE', 'back in service'] },
      },
    },
  } as const satisfies LifecycleDefinition;

  it('reports Nova’s pair for its own states, and its types grow with it', async () => {
    const machine = lifecycle(myServer);
    const run = await runLifecycle(machine, {
      resourceId: 'srv-x',
      actions: instantActions(actionNames(myServer), []),
      store: memoryLifecycleStore(),
    });
    expectTypeOf(stateName(run.getSnapshot())).toEqualTypeOf<ServerState | 'DRAINING' | 'MAINTENANCE'>();
    expectTypeOf<StateOf<typeof myServer>>().toEqualTypeOf<ServerState | 'DRAINING' | 'MAINTENANCE'>();
    await run.send({ type: 'CREATE' });
    await run.settled();
    await run.send({ type: 'DRAIN' });
    expect(serverStatus(run.getSnapshot())).toEqual({ vm_state: 'active', task_state: 'draining' });
    const drained = await run.settled();
    expect(serverStatus(drained)).toEqual({ vm_state: 'maintenance', task_state: null });
    await run.send({ type: 'DELETE' }); // the common DELETE reaches the new states too
    expect(serverStatus(run.getSnapshot())).toEqual({ vm_state: 'maintenance', task_state: 'deleting' });
    expect(stateName(await run.settled())).toBe('DELETED');
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

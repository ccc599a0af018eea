import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeCloud } from '../../examples/server-boot.js';
import { makeServerFlows, serverActions } from '../../examples/server-lifecycle.js';
import {
  flowActions,
  LIFECYCLE_KIND,
  type LifecycleAction,
  LifecycleConflictError,
  type LifecycleRun,
  LifecycleStoppedError,
  lifecycle,
  type RedisLifecycleStore,
  redisLifecycleStore,
  runLifecycle,
  serverLifecycle,
  serverMachine,
  serverStatus,
  stateName,
} from '../../machines/index.js';
import { actionNames } from '../../machines/table.js';
import {
  createEngine,
  type Engine,
  linear,
  redisStore,
  SnapshotCorruptError,
  StoreUnavailableError,
  TaskweaveError,
  task,
} from '../../src/index.js';
import { deferred, untilAborted } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { redisCloud } from '../support/redis-cloud.js';
import { withBuildTimeout } from '../support/server-timeout.js';

const CREATE = { type: 'CREATE', network: 'net-1', sizeGb: 20 } as const;
const BOOT_RESULTS = { ip: '10.0.0.1', volume: 'volume-1', port: 'port-1', vm: 'vm-1' };

/**
 * A server lifecycle whose actions run flows (flowActions) on a Redis engine, its snapshot in Redis
 * (redisLifecycleStore): operations, a failed create, foreign data, two runners on one resource, and a
 * process SIGKILLed mid-create whose resource another runner finishes.
 */
describe('server lifecycle on Redis, flows bound to its transitions', () => {
  let redis: Redis;
  let prefix: string;
  let engines: Engine[];
  let stores: RedisLifecycleStore[];
  let runners: LifecycleRun[];
  let child: ChildProcess | undefined;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('lifecycle');
    engines = [];
    stores = [];
    runners = [];
  });

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
    for (const runner of runners) await runner.stop();
    for (const engine of engines) await engine.close();
    for (const store of stores) await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  const newEngine = () => {
    const engine = createEngine({ store: redisStore({ redis: REDIS_URL, prefix }) });
    engines.push(engine);
    return engine;
  };
  const newStore = () => {
    const store = redisLifecycleStore({ redis: REDIS_URL, prefix });
    stores.push(store);
    return store;
  };
  const server = async (
    resourceId: string,
    actions: Record<string, LifecycleAction>,
    store: RedisLifecycleStore = newStore(),
  ) => {
    const run = await runLifecycle(serverMachine, { resourceId, actions, store });
    runners.push(run);
    return run;
  };
  const stored = async (resourceId: string) => redis.hgetall(`{${prefix}:${resourceId}}:lifecycle`);

  it('create → ACTIVE, stop → STOPPED, start → ACTIVE, delete → DELETED: one run per operation', async () => {
    const engine = newEngine();
    const cloud = fakeCloud();
    const srv = await server('srv-1', serverActions(engine, makeServerFlows({ cloud })));
    for (const [event, state] of [
      [CREATE, 'ACTIVE'],
      [{ type: 'STOP' }, 'STOPPED'],
      [{ type: 'START' }, 'ACTIVE'],
      [{ type: 'DELETE' }, 'DELETED'],
    ] as const) {
      await srv.send(event);
      expect(stateName(await srv.settled())).toBe(state);
    }
    expect(srv.getSnapshot().context.outputs.create).toEqual(BOOT_RESULTS);
    const runs = ['srv-1:create:1', 'srv-1:stop:2', 'srv-1:start:3', 'srv-1:delete:4'];
    const infos = await Promise.all(runs.map((id) => engine.get(id)));
    expect(infos.map((info) => [info?.meta.flow, info?.meta.status])).toEqual([
      ['server-boot', 'SUCCESS'],
      ['server-stop', 'SUCCESS'],
      ['server-start', 'SUCCESS'],
      ['server-delete', 'SUCCESS'],
    ]);
    expect(cloud.calls).toContain('power-off vm-1');
    expect(cloud.live.size).toBe(0);
    const hash = await stored('srv-1');
    expect(hash.kind).toBe(LIFECYCLE_KIND);
    expect(JSON.parse(hash.snapshot!)).toMatchObject({ value: 'DELETED', status: 'done' });
    expect(Number(hash.v)).toBeGreaterThanOrEqual(9); // every transition saved: CREATE … done(delete)
  });

  it('a failed create reverts every boot step and leaves the server in ERROR', async () => {
    const engine = newEngine();
    const cloud = fakeCloud();
    const srv = await server('srv-2', serverActions(engine, makeServerFlows({ cloud, failAt: 'boot-vm' })));
    await srv.send(CREATE);
    const snapshot = await srv.settled();
    expect(stateName(snapshot)).toBe('ERROR');
    expect(snapshot.context.error).toMatchObject({
      action: 'create',
      state: 'BUILDING',
      failure: { name: 'FlowFailedError', message: expect.stringContaining('boot-vm: injected failure') },
    });
    expect(cloud.live.size).toBe(0);
    expect(cloud.calls.filter((call) => call.startsWith('delete'))).toHaveLength(3); // ip, volume, port
    const info = await engine.get('srv-2:create:1');
    expect(info?.meta.status).toBe('REVERTED');
    expect(Object.values(info!.tasks).map((t) => t.state)).toEqual([
      'REVERTED',
      'REVERTED',
      'REVERTED',
      'REVERTED',
    ]);
    // Restored elsewhere, the resource is still in ERROR and nothing runs again.
    await srv.stop();
    const callsBefore = cloud.calls.length;
    const again = await server('srv-2', serverActions(newEngine(), makeServerFlows({ cloud })));
    expect(stateName(await again.settled())).toBe('ERROR');
    expect(cloud.calls).toHaveLength(callsBefore);
  });

  it('survives a SIGKILL mid-create: a new runner resumes the same boot run and goes on', async () => {
    const boot = spawnChild('srv-3', 'vm');
    child = boot.process;
    await boot.line('HANGING vm');
    // What the killed process left: the resource BUILDING with create running, boot-vm stored RUNNING.
    expect(JSON.parse((await stored('srv-3')).snapshot!)).toMatchObject({
      value: 'BUILDING',
      children: { create: { src: 'create' } },
    });
    child.kill('SIGKILL');
    await once(child, 'exit');

    const engine = newEngine();
    const cloud = redisCloud(redis, prefix);
    const srv = await server('srv-3', serverActions(engine, makeServerFlows({ cloud })));
    expect(stateName(srv.getSnapshot())).toBe('BUILDING');
    expect(stateName(await srv.settled())).toBe('ACTIVE');
    // Finished steps did not run again; boot-vm (running at the kill) ran once more, in this process.
    expect(await cloud.executions()).toEqual({ ip: 1, volume: 1, port: 1, vm: 2 });
    expect(cloud.calls).toEqual(['create vm vm-1']);
    const run = await engine.get('srv-3:create:1');
    expect(run?.meta.status).toBe('SUCCESS');
    expect(run?.results).toEqual(BOOT_RESULTS);
    expect((await engine.store.load('srv-3:create:1'))?.token).toBe(2); // taken over, not started anew

    for (const [event, state] of [
      ['STOP', 'STOPPED'],
      ['START', 'ACTIVE'],
      ['DELETE', 'DELETED'],
    ] as const) {
      await srv.send({ type: event });
      expect(stateName(await srv.settled())).toBe(state);
    }
    expect(await cloud.liveNow()).toEqual([]);
    expect(await cloud.executions()).toEqual({ ip: 1, volume: 1, port: 1, vm: 2 });
  });

  it('gives SnapshotCorruptError for a resource whose key holds foreign data, and only for it', async () => {
    const actions = serverActions(newEngine(), makeServerFlows({ cloud: fakeCloud() }));
    await redis.set(`{${prefix}:str}:lifecycle`, 'hello');
    await redis.hset(`{${prefix}:alien}:lifecycle`, { kind: 'someone-else', v: '1', snapshot: '{}' });
    await redis.hset(`{${prefix}:garbled}:lifecycle`, { kind: LIFECYCLE_KIND, v: '3', snapshot: '{nope' });
    for (const id of ['str', 'alien', 'garbled']) {
      await expect(server(id, actions)).rejects.toBeInstanceOf(SnapshotCorruptError);
    }
    expect(await redis.get(`{${prefix}:str}:lifecycle`)).toBe('hello'); // left as it was
    const fine = await server('srv-4', actions);
    await fine.send(CREATE);
    expect(stateName(await fine.settled())).toBe('ACTIVE');
  });

  it('lets one runner advance a resource: the other one’s save is refused and it stops', async () => {
    const actions = serverActions(newEngine(), makeServerFlows({ cloud: fakeCloud() }));
    const first = await server('srv-5', actions);
    await first.send(CREATE);
    await first.settled();
    const second = await server('srv-5', actions); // another process restores it meanwhile
    await second.send({ type: 'STOP' });
    expect(stateName(await second.settled())).toBe('STOPPED');

    await expect(first.send({ type: 'STOP' })).rejects.toBeInstanceOf(LifecycleConflictError);
    const stopped = await first.settled().catch((error: unknown) => error);
    expect(stopped).toBeInstanceOf(LifecycleStoppedError);
    expect((stopped as Error).cause).toBeInstanceOf(LifecycleConflictError);
    expect(JSON.parse((await stored('srv-5')).snapshot!).value).toBe('STOPPED');
    await second.send({ type: 'START' });
    expect(stateName(await second.settled())).toBe('ACTIVE');
  });

  it('a hung create times out to ERROR after its runner is SIGKILLed: the stored deadline fires in the new runner, which reverts the boot', async () => {
    const boot = spawnChild('srv-8', 'vm', '2000');
    child = boot.process;
    await boot.line('HANGING vm');
    const { context } = JSON.parse((await stored('srv-8')).snapshot!) as { context: { deadline: number } };
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Nobody runs the resource while its deadline passes.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, context.deadline - Date.now() + 10)));

    const engine = newEngine();
    const cloud = redisCloud(redis, prefix);
    const srv = await runLifecycle(lifecycle(withBuildTimeout(2_000)), {
      resourceId: 'srv-8',
      actions: serverActions(engine, makeServerFlows({ cloud })),
      store: newStore(),
    });
    runners.push(srv);
    const settled = await srv.settled();
    expect(stateName(settled)).toBe('ERROR');
    expect(settled.context.error).toMatchObject({
      action: 'create',
      state: 'BUILDING',
      failure: { name: 'ActionTimeoutError', fields: { timeoutMs: 2_000 } },
    });
    expect(serverStatus(settled)).toEqual({ vm_state: 'error', task_state: null });
    // The boot run the dead process left was taken over and reverted; boot-vm was not run again.
    expect((await engine.get('srv-8:create:1'))?.meta.status).toBe('REVERTED');
    expect(await cloud.liveNow()).toEqual([]);
    // The runner did not start create again (no second run). engine.revert of the taken-over run lets
    // XState restart boot-vm, in flight at the kill, before it rolls back: at most one more execution.
    expect(await engine.get('srv-8:create:2')).toBeUndefined();
    const executions = await cloud.executions();
    expect(executions).toMatchObject({ ip: 1, volume: 1, port: 1 });
    expect(executions.vm).toBeLessThanOrEqual(2);
    expect(settled.context.interrupted).toEqual([]);
  });

  it('deletes a final resource’s record (retention) and refuses one that is not; every store error is a TaskweaveError', async () => {
    const store = newStore();
    const actions = serverActions(newEngine(), makeServerFlows({ cloud: fakeCloud() }));
    const srv = await server('srv-9', actions, store);
    await srv.send(CREATE);
    await srv.settled();
    await expect(store.delete('srv-9')).rejects.toThrow(
      'Expected resource `srv-9` to be in a final state before deleting its record, got `ACTIVE`',
    );
    expect(await redis.exists(`{${prefix}:srv-9}:lifecycle`)).toBe(1);
    await srv.send({ type: 'DELETE' });
    expect(stateName(await srv.settled())).toBe('DELETED');
    expect(await store.delete('srv-9')).toBe(true);
    expect(await redis.exists(`{${prefix}:srv-9}:lifecycle`)).toBe(0);
    expect(await store.delete('srv-9')).toBe(false);

    const gone = await runLifecycle(serverMachine, {
      resourceId: 'srv-10',
      actions,
      store,
      deleteWhenFinal: true,
    });
    runners.push(gone);
    await gone.send(CREATE);
    await gone.settled();
    expect(await redis.exists(`{${prefix}:srv-10}:lifecycle`)).toBe(1);
    await gone.send({ type: 'DELETE' });
    await gone.settled();
    expect(await redis.exists(`{${prefix}:srv-10}:lifecycle`)).toBe(0);

    await redis.set(`{${prefix}:str}:lifecycle`, 'hello');
    await expect(store.delete('str')).rejects.toBeInstanceOf(SnapshotCorruptError);
    expect(() => redisLifecycleStore({ redis: 'http://nope' })).toThrow(TaskweaveError);
    await expect(store.load('')).rejects.toBeInstanceOf(TaskweaveError);
    const dead = redisLifecycleStore({ redis: 'redis://127.0.0.1:1', unavailableDeadlineMs: 300 });
    stores.push(dead);
    const started = Date.now();
    await expect(dead.load('srv-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  describe('an action whose flow is still running', () => {
    /** `create` runs `slow-create`: reserve (reverted by release), then wait until aborted or let go. */
    const slowCreate = (log: string[], letGo: Promise<void>, started: () => void) =>
      linear('slow-create', [
        task({
          name: 'reserve',
          provides: 'slot',
          execute: () => {
            log.push('reserve');
            return 'slot-1';
          },
          revert: () => {
            log.push('release');
          },
        }),
        task({
          name: 'wait',
          requires: 'slot',
          provides: 'ready',
          async execute(_args, ctx) {
            started();
            await Promise.race([letGo, untilAborted(ctx.signal)]).catch((error) => {
              log.push('wait aborted');
              throw error;
            });
            return true;
          },
        }),
      ]);
    const otherActions = (log: string[]) =>
      Object.fromEntries(
        actionNames(serverLifecycle).map((action) => [
          action,
          async () => {
            log.push(action);
          },
        ]),
      ) as Record<string, LifecycleAction>;

    it('is cancelled when the resource moves on (DELETE while BUILDING); delete waits for the revert', async () => {
      const engine = newEngine();
      const log: string[] = [];
      const waiting = deferred();
      const flow = slowCreate(log, new Promise(() => {}), () => waiting.resolve());
      const teardown = linear('teardown', [task({ name: 'delete', execute: () => void log.push('delete') })]);
      const srv = await server('srv-6', {
        ...otherActions(log),
        ...flowActions(engine, { create: flow, delete: teardown }),
      });
      await srv.send({ type: 'CREATE' });
      await waiting.promise;
      await srv.send({ type: 'DELETE' });
      expect(stateName(await srv.settled())).toBe('DELETED');
      expect(log).toEqual(['reserve', 'wait aborted', 'release', 'delete']);
      expect((await engine.get('srv-6:create:1'))?.meta.status).toBe('REVERTED');
    });

    it('is left running when the runner stops, and the next runner takes it over', async () => {
      const engine = newEngine();
      const log: string[] = [];
      const waiting = deferred();
      const letGo = deferred();
      const flow = slowCreate(log, letGo.promise, () => waiting.resolve());
      const actions = { ...otherActions(log), ...flowActions(engine, { create: flow }) };
      const first = await server('srv-7', actions);
      await first.send({ type: 'CREATE' });
      await waiting.promise;
      await first.stop();
      expect((await engine.get('srv-7:create:1'))?.meta.status).toBe('RUNNING');

      const second = await server('srv-7', actions);
      letGo.resolve();
      expect(stateName(await second.settled())).toBe('ACTIVE');
      expect(second.getSnapshot().context.outputs.create).toEqual({ slot: 'slot-1', ready: true });
      expect(log).toEqual(['reserve']); // nothing aborted, nothing reverted, nothing run twice
    });
  });

  /** test/support/lifecycle-child.ts in its own process, its stdout read line by line. */
  function spawnChild(resourceId: string, hangKind: string, timeoutMs?: string) {
    const script = fileURLToPath(new URL('../support/lifecycle-child.ts', import.meta.url));
    const process_ = spawn(
      process.execPath,
      ['--import', 'tsx', script, REDIS_URL, prefix, resourceId, hangKind, ...(timeoutMs ? [timeoutMs] : [])],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    process_.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines: string[] = [];
    const reader = createInterface({ input: process_.stdout! });
    reader.on('line', (line) => lines.push(line));
    return {
      process: process_,
      /** Resolves on the first line equal to `wanted`; rejects on an UNEXPECTED line or an exit first. */
      line: (wanted: string) =>
        new Promise<void>((resolve, reject) => {
          const check = (line: string) => {
            if (line === wanted) done(resolve);
            else if (line.startsWith('UNEXPECTED')) done(() => reject(new Error(`child said: ${line}`)));
          };
          const exited = () => done(() => reject(new Error(`child exited first: ${stderr}`)));
          const done = (settle: () => void) => {
            reader.off('line', check);
            process_.off('exit', exited);
            settle();
          };
          if (lines.includes(wanted)) return resolve();
          reader.on('line', check);
          process_.once('exit', exited);
        }),
    };
  }
});

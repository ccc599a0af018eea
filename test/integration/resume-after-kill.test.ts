import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compile,
  createEngine,
  type Engine,
  FlowFailedError,
  redisStore,
  type Store,
} from '../../src/index.js';
import { type Child, startChild } from '../support/child.js';
import {
  chainFlow,
  countOf,
  type EffectLog,
  PROVISION_RESULTS,
  provisionFlow,
  redisEffects,
  WIDE_DISKS,
  waitFor,
  wideFlow,
} from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';

/**
 * A process running a flow is SIGKILLed inside a task; another engine resumes the run from Redis.
 * DESIGN.md "Resume": SUCCESS tasks are not re-run, RUNNING ones re-run with the same idempotency key,
 * a run that was reverting keeps reverting.
 */
describe('resume after the running process was SIGKILLed', () => {
  let redis: Redis;
  let prefix: string;
  let log: EffectLog;
  let store: Store;
  let engine: Engine | undefined;
  let child: Child | undefined;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('kill');
    log = redisEffects(redis, prefix);
    store = redisStore({ redis, prefix });
  });

  afterEach(async () => {
    await child?.kill();
    await engine?.close();
    await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
    child = undefined;
    engine = undefined;
  });

  it('re-runs only the in-flight task, with the same idempotency key, and finishes the run', async () => {
    const runId = 'killed-while-executing';
    child = startChild(prefix, runId, 'execute');
    expect(await child.waitForLine((line) => line.startsWith('HANGING'))).toBe('HANGING execute attach');
    // Invariant 1 seen from outside: the hanging task was stored RUNNING before its execute began.
    const before = await loadRun(store, runId);
    expect(before.meta.status).toBe('RUNNING');
    expect(taskState(before.parts, 'attach')).toBe('RUNNING');
    await child.kill();

    engine = createEngine({ store, flows: [provisionFlow(log, { label: 'parent' })] });
    const run = await engine.resume(runId);
    expect(await run.result).toEqual(PROVISION_RESULTS);

    const effects = await log.all();
    expect(countOf(effects)).toEqual({ reserve: 1, format: 1, tag: 1, attach: 2, boot: 1 });
    const attach = effects.filter((e) => e.task === 'attach');
    expect(attach.map((e) => e.label)).toEqual(['child', 'parent']);
    expect(new Set(attach.map((e) => e.key))).toEqual(new Set([`${runId}:attach`]));
    expect(effects.filter((e) => e.label === 'parent').map((e) => e.task)).toEqual(['attach', 'boot']);
    expect(countOf(effects, 'revert')).toEqual({});

    const stored = await store.load(runId);
    expect(stored?.meta.status).toBe('SUCCESS');
    expect(stored?.token).toBe(2);
    const info = await engine.get(runId);
    expect(Object.values(info!.tasks).map((t) => t.state)).toEqual(Array(5).fill('SUCCESS'));
    expect(info?.results).toEqual(PROVISION_RESULTS);

    // The history shows the second execution: an operator reading it sees attach ran twice.
    const history = (await engine.history(runId)).filter((e) => e.task === 'attach');
    expect(history.map((e) => e.state)).toEqual(['RUNNING', 'RUNNING', 'SUCCESS']);
  });

  it('engine.revert of a run killed mid-execute reverts the in-flight task without executing it again', async () => {
    const runId = 'killed-then-reverted';
    child = startChild(prefix, runId, 'execute');
    expect(await child.waitForLine((line) => line.startsWith('HANGING'))).toBe('HANGING execute attach');
    await child.kill();

    engine = createEngine({ store, flows: [provisionFlow(log, { label: 'parent' })] });
    await engine.revert(runId);

    // The operator asked for a rollback: no new side effect, and the task that may have half-run is
    // reverted (its revert is told it has no result), then everything before it, in reverse order.
    const effects = (await log.all()).filter((e) => e.label === 'parent');
    expect(countOf(effects)).toEqual({});
    const order = effects.map((e) => e.task);
    expect(order[0]).toBe('attach');
    expect(new Set(order.slice(1, 3))).toEqual(new Set(['format', 'tag'])); // parallel: either order
    expect(order[3]).toBe('reserve');
    expect(effects).toHaveLength(4);
    expect(new Set(effects.map((e) => e.kind))).toEqual(new Set(['revert']));
    expect((await store.load(runId))?.meta.status).toBe('REVERTED');
    const info = await engine.get(runId);
    const states = Object.fromEntries(Object.entries(info!.tasks).map(([name, t]) => [name, t.state]));
    // Its history: running (in the killed process), stopped by the rollback, reverted; no second RUNNING.
    const attach = (await engine.history(runId)).filter((e) => e.task === 'attach');
    expect(attach.map((e) => e.state)).toEqual(['RUNNING', 'FAILURE', 'REVERTING', 'REVERTED']);
    expect(attach[1]?.error?.name).toBe('RolledBackError');
    expect(states).toEqual({
      reserve: 'REVERTED',
      format: 'REVERTED',
      tag: 'REVERTED',
      attach: 'REVERTED',
      boot: 'PENDING',
    });
  });

  it('resumes a wide flow (the spawned shape): only the in-flight task again, its task machine rehydrated', async () => {
    const runId = 'killed-wide';
    expect(compile(wideFlow(log)).shape).toBe('spawned');
    child = startChild(prefix, runId, 'wide');
    expect(await child.waitForLine((line) => line.startsWith('HANGING'))).toBe('HANGING execute disk5');
    // Every other disk finished and is stored so: only disk5 is in flight when the process dies.
    await waitFor(async () => {
      const { parts } = await loadRun(store, runId);
      return (
        Array.from({ length: WIDE_DISKS }, (_, i) => taskState(parts, `disk${i}`)).filter(
          (s) => s === 'SUCCESS',
        ).length ===
        WIDE_DISKS - 1
      );
    });
    const stored = await loadRun(store, runId);
    expect(taskState(stored.parts, 'disk5')).toBe('RUNNING');
    // The running task's machine is stored with it: a task machine in RUNNING, holding its execute.
    const machine = JSON.parse(stored.parts['c:disk5']!);
    expect(machine).toMatchObject({
      id: 'execute:disk5',
      src: 'task.execute',
      snapshot: { value: 'RUNNING' },
    });
    expect(machine.snapshot.children.execute).toMatchObject({
      src: 'execute',
      snapshot: { status: 'active' },
    });
    expect(JSON.parse(stored.parts['c:disk4']!)).toBeNull();
    await child.kill();

    engine = createEngine({ store, flows: [wideFlow(log, { label: 'parent' })] });
    const run = await engine.resume(runId);
    expect(await run.result).toMatchObject({ vm: `vm-web-${WIDE_DISKS}` });
    const effects = await log.all();
    const once = Object.fromEntries(
      ['reserve', ...Array.from({ length: WIDE_DISKS }, (_, i) => `disk${i}`), 'attach', 'boot'].map((t) => [
        t,
        t === 'disk5' ? 2 : 1,
      ]),
    );
    expect(countOf(effects)).toEqual(once);
    expect(effects.filter((e) => e.label === 'parent').map((e) => e.task)).toEqual([
      'disk5',
      'attach',
      'boot',
    ]);
    expect(new Set(effects.filter((e) => e.task === 'disk5').map((e) => e.key))).toEqual(
      new Set([`${runId}:disk5`]),
    );
    expect((await store.load(runId))?.meta.status).toBe('SUCCESS');
  });

  it('keeps reverting a run killed while reverting: the remaining tasks, in reverse order', async () => {
    const runId = 'killed-while-reverting';
    child = startChild(prefix, runId, 'revert');
    expect(await child.waitForLine((line) => line.startsWith('HANGING'))).toBe('HANGING revert b');
    expect((await store.load(runId))?.meta.status).toBe('REVERTING');
    await child.kill();

    engine = createEngine({ store, flows: [chainFlow(log, { label: 'parent', fail: ['d'] })] });
    const run = await engine.resume(runId);
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error as FlowFailedError).failures.map((f) => f.task)).toEqual(['d']);
    expect((error as FlowFailedError).failures[0]?.error.message).toBe('d broke');

    const effects = await log.all();
    expect(effects.filter((e) => e.label === 'parent').map((e) => `${e.kind} ${e.task}`)).toEqual([
      'revert b',
      'revert a',
    ]);
    expect(effects.filter((e) => e.kind === 'revert').map((e) => e.task)).toEqual(['d', 'c', 'b', 'b', 'a']);
    expect(countOf(effects)).toEqual({ a: 1, b: 1, c: 1, d: 1 });

    expect((await store.load(runId))?.meta.status).toBe('REVERTED');
    const info = await engine.get(runId);
    expect(Object.fromEntries(Object.entries(info!.tasks).map(([name, t]) => [name, t.state]))).toEqual({
      a: 'REVERTED',
      b: 'REVERTED',
      c: 'REVERTED',
      d: 'REVERTED',
    });
  });
});

async function loadRun(store: Store, runId: string) {
  const stored = await store.load(runId);
  if (!stored) throw new Error(`run ${runId} is not stored`);
  return stored;
}

/** A task's state as its stored part `t:<task>` shows it. */
function taskState(parts: Record<string, string>, task: string): string {
  return (JSON.parse(parts[`t:${task}`] ?? 'null') as { s: string }).s;
}

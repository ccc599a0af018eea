import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  type FlowRun,
  LeaseLostError,
  redisStore,
  type Store,
  type TaskContext,
} from '../../src/index.js';
import {
  type Behaviour,
  countOf,
  type Deferred,
  deferred,
  type EffectLog,
  PROVISION_RESULTS,
  provisionFlow,
  redisEffects,
  untilAborted,
} from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';
import { dumpPrefix } from '../support/redis-dump.js';

/**
 * Invariant 2, single writer with fencing: every claim gets a higher token, a write with a stale one is
 * refused atomically, and the engine that lost a run stops it at once (no new tasks, running tasks'
 * signals aborted, LeaseLostError). Each engine here has its own store and Redis connection.
 */
interface Probe {
  /** Signals of executes that started and have not returned, by task. */
  signals: Map<string, AbortSignal>;
  started: Map<string, Deferred>;
  /** Gates a task's execute waits on (or on its signal); tasks without one run straight through. */
  gates: Map<string, Deferred>;
}

function probe(gated: string[] = []): Probe & { behaviour: (label: string) => Behaviour } {
  const p: Probe = {
    signals: new Map(),
    started: new Map(['reserve', 'format', 'tag', 'attach', 'boot'].map((t) => [t, deferred()])),
    gates: new Map(gated.map((t) => [t, deferred()])),
  };
  return {
    ...p,
    behaviour: (label) => ({
      label,
      async before(task, kind, ctx: TaskContext) {
        if (kind !== 'execute') return;
        p.signals.set(task, ctx.signal);
        p.started.get(task)?.resolve();
        const gate = p.gates.get(task);
        if (gate) await Promise.race([gate.promise, untilAborted(ctx.signal)]);
        p.signals.delete(task);
      },
    }),
  };
}

describe('fencing between engines (invariant 2)', () => {
  let redis: Redis;
  let prefix: string;
  let log: EffectLog;
  const opened: { engine: Engine; store: Store; client: Redis }[] = [];

  const openEngine = (behaviour: Behaviour) => {
    const client = newRedis();
    const store = redisStore({ redis: client, prefix });
    const engine = createEngine({ store, flows: [provisionFlow(log, behaviour)], id: behaviour.label! });
    opened.push({ engine, store, client });
    return engine;
  };

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('fence');
    log = redisEffects(redis, prefix);
  });

  afterEach(async () => {
    for (const { engine, store, client } of opened.splice(0)) {
      await engine.close();
      await store.close();
      await client.quit();
    }
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  /** A run left by an engine that stopped (closed) while format and tag were running. */
  const parkedRun = async (runId: string) => {
    const p = probe(['format', 'tag']);
    const engine = openEngine(p.behaviour('parker'));
    const run = engine.start('provision', { name: 'web' }, { id: runId });
    await Promise.all([p.started.get('format')!.promise, p.started.get('tag')!.promise]);
    await engine.close();
    await run.result.catch(() => {});
    return runId;
  };

  it('two engines resuming one run at once: one finishes, the other gets LeaseLostError', async () => {
    const runId = await parkedRun('contested');
    const a = probe(['tag', 'format']);
    const b = probe(['tag', 'format']);
    const engineA = openEngine(a.behaviour('A'));
    const engineB = openEngine(b.behaviour('B'));
    const [runA, runB] = await Promise.all([engineA.resume(runId), engineB.resume(runId)]);
    expect((await redis.hget(`{${prefix}:${runId}}:meta`, 'token')) as string).toBe('3');

    // Let tag finish on both: its completion is a write, which the older token cannot make.
    a.gates.get('tag')!.resolve();
    b.gates.get('tag')!.resolve();
    const settled = (run: FlowRun, name: 'A' | 'B') =>
      run.result.then(
        () => ({ name, error: undefined }),
        (error: unknown) => ({ name, error }),
      );
    const first = await Promise.race([settled(runA, 'A'), settled(runB, 'B')]);
    expect(first.error).toBeInstanceOf(LeaseLostError);
    const [loser, winner] = first.name === 'A' ? [a, b] : [b, a];
    const [winnerRun, winnerName] = first.name === 'A' ? [runB, 'B'] : [runA, 'A'];
    // Whatever the loser still had running is aborted (it may also have lost before starting anything).
    for (const signal of loser.signals.values()) expect(signal.aborted).toBe(true);
    const loserEffects = (await log.all()).filter((e) => e.label === first.name).length;

    winner.gates.get('format')!.resolve();
    expect(await winnerRun.result).toEqual(PROVISION_RESULTS);
    const effects = await log.all();
    expect(effects.filter((e) => e.label === first.name)).toHaveLength(loserEffects);
    expect(
      effects
        .filter((e) => e.label === winnerName)
        .map((e) => e.task)
        .sort(),
    ).toEqual(['attach', 'boot', 'format', 'tag']);
    expect(effects.filter((e) => e.label === first.name && ['attach', 'boot'].includes(e.task))).toEqual([]);
    expect((await redis.hget(`{${prefix}:${runId}}:meta`, 'status')) as string).toBe('SUCCESS');
  });

  it('an engine whose run is taken over mid-run stops at its next write; the new owner finishes it', async () => {
    const runId = 'taken-over';
    const a = probe(['format', 'tag']);
    const engineA = openEngine(a.behaviour('A'));
    const runA = engineA.start('provision', { name: 'web' }, { id: runId });
    await Promise.all([a.started.get('format')!.promise, a.started.get('tag')!.promise]);

    const engineB = openEngine(probe().behaviour('B'));
    const runB = await engineB.resume(runId);
    expect(await runB.result).toEqual(PROVISION_RESULTS);
    const afterB = await dumpPrefix(redis, prefix);

    // A's tag finishes now: its write carries token 1 and is refused; A aborts format and starts nothing.
    a.gates.get('tag')!.resolve();
    await expect(runA.result).rejects.toBeInstanceOf(LeaseLostError);
    expect([...a.signals.keys()]).toEqual(['format']);
    expect(a.signals.get('format')?.aborted).toBe(true);
    expect(await dumpPrefix(redis, prefix)).toEqual(afterB);

    const effects = await log.all();
    // At least once, never twice from A after it lost: format and tag ran on both, the rest only on B.
    expect(countOf(effects)).toEqual({ reserve: 1, format: 2, tag: 2, attach: 1, boot: 1 });
    expect(
      effects
        .filter((e) => e.label === 'A')
        .map((e) => e.task)
        .sort(),
    ).toEqual(['format', 'reserve', 'tag']);
    for (const task of ['format', 'tag']) {
      expect(new Set(effects.filter((e) => e.task === task).map((e) => e.key))).toEqual(
        new Set([`${runId}:${task}`]),
      );
    }
    const stored = await engineB.store.load(runId);
    expect(stored).toMatchObject({ token: 2, meta: { status: 'SUCCESS', owner: 'B' } });
  });

  it('refuses a write with a stale token and changes nothing', async () => {
    const engine = openEngine(probe().behaviour('A'));
    await engine.run('provision', { name: 'web' }, { id: 'stale' });
    const store = engine.store;
    await store.claim('stale', 'someone-else');
    const stored = (await store.load('stale'))!;
    const before = await dumpPrefix(redis, prefix);
    const write = {
      runId: 'stale',
      token: stored.token - 1,
      seq: stored.seq + 1,
      meta: { ...stored.meta, status: 'RUNNING' as const },
      set: { 't:boot': '["PENDING",{"s":"PENDING","a":0}]' },
    };
    const error = await store.save(write).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ runId: 'stale' });
    expect(await dumpPrefix(redis, prefix)).toEqual(before);
  });
});

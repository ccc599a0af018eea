import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  FlowFailedError,
  RevertFailedError,
  redisStore,
  type Store,
} from '../../src/index.js';
import {
  type EffectLog,
  PROVISION_RESULTS,
  parkProvision,
  provisionFlow,
  redisEffects,
} from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';

/**
 * Listing and inspecting stored runs on Redis: `store.list` by status and flow, `engine.get` with
 * per-task states, results and failures, `store.delete` and `store.purge` retention.
 */
describe('stored runs on Redis: list, get, delete, purge', () => {
  let redis: Redis;
  let prefix: string;
  let log: EffectLog;
  let store: Store;
  let engine: Engine;

  beforeAll(async () => {
    redis = newRedis();
    prefix = testPrefix('inspect');
    log = redisEffects(redis, prefix);
    store = redisStore({ redis, prefix });
    engine = createEngine({ store });
    // Same structure, different behaviour: each start() registers the flow object it is given.
    await engine.run(provisionFlow(log), { name: 'web' }, { id: 'ok-1' });
    await engine.run(provisionFlow(log), { name: 'web' }, { id: 'ok-2' });
    await expect(
      engine.run(provisionFlow(log, { fail: ['boot'] }), { name: 'web' }, { id: 'failed' }),
    ).rejects.toBeInstanceOf(FlowFailedError);
    const broken = provisionFlow(log, { fail: ['boot'], failRevert: ['attach'] });
    await expect(engine.run(broken, { name: 'web' }, { id: 'revert-broke' })).rejects.toBeInstanceOf(
      RevertFailedError,
    );
    await parkProvision(store, log, 'mid');
  });

  afterAll(async () => {
    await engine?.close();
    await store?.close();
    await cleanPrefix(redis, prefix);
    await redis?.quit();
  });

  const ids = async (options?: Parameters<Store['list']>[0]) => (await store.list(options)).map((m) => m.id);

  it('lists runs by status and flow, newest first', async () => {
    expect((await ids({ status: 'SUCCESS' })).sort()).toEqual(['ok-1', 'ok-2']);
    expect(await ids({ status: 'REVERTED' })).toEqual(['failed']);
    expect(await ids({ status: 'FAILURE' })).toEqual(['revert-broke']);
    expect(await ids({ status: 'RUNNING' })).toEqual(['mid']);
    expect(await ids({ status: ['REVERTED', 'FAILURE'] })).toEqual(['revert-broke', 'failed']);
    expect(await ids({ flow: 'provision' })).toHaveLength(5);
    expect(await ids({ flow: 'other' })).toEqual([]);
    expect(await ids({ limit: 2 })).toEqual(['mid', 'revert-broke']);
  });

  it('gets per-task states, results and failures', async () => {
    const ok = await engine.get('ok-1');
    expect(ok?.meta).toMatchObject({ id: 'ok-1', flow: 'provision', version: '1', status: 'SUCCESS' });
    expect(ok?.results).toEqual(PROVISION_RESULTS);
    expect(ok?.tasks.format).toEqual({
      state: 'SUCCESS',
      attempt: 1,
      result: 'disk-slot-web',
      startedAt: expect.any(Number),
      finishedAt: expect.any(Number),
    });
    expect(ok!.tasks.format!.finishedAt).toBeGreaterThanOrEqual(ok!.tasks.format!.startedAt!);
    expect(ok?.tasks.boot?.result).toEqual(PROVISION_RESULTS.vm);
    expect(ok?.failures).toEqual([]);

    const failed = await engine.get('failed');
    expect(failed?.meta.status).toBe('REVERTED');
    expect(Object.values(failed!.tasks).map((t) => t.state)).toEqual(Array(5).fill('REVERTED'));
    expect(failed?.results).toEqual({});
    expect(failed?.failures.map((f) => [f.task, f.error.message])).toEqual([['boot', 'boot broke']]);
    expect(failed?.revertFailures).toEqual([]);

    const broke = await engine.get('revert-broke');
    expect(broke?.meta.status).toBe('FAILURE');
    expect(broke?.tasks.attach?.state).toBe('REVERT_FAILURE');
    expect(broke?.tasks.boot?.state).toBe('REVERTED');
    // Reverts stop at the task that would not revert: what it depends on is left as it is.
    expect([broke?.tasks.format?.state, broke?.tasks.tag?.state, broke?.tasks.reserve?.state]).toEqual([
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
    ]);
    expect(broke?.revertFailures.map((f) => [f.task, f.error.message])).toEqual([
      ['attach', 'attach would not revert'],
    ]);

    const mid = await engine.get('mid');
    expect(mid?.meta.status).toBe('RUNNING');
    expect(mid?.tasks.attach?.state).toBe('RUNNING');
    expect(mid?.tasks.boot?.state).toBe('PENDING');
    expect(mid?.results).toMatchObject({ slot: 'slot-web', disk: 'disk-slot-web' });

    expect(await engine.get('nothing-here')).toBeUndefined();
  });

  it('deletes a run with all its keys, then purges finished runs but keeps running ones', async () => {
    expect(await store.delete('ok-1')).toBe(true);
    expect(await store.delete('ok-1')).toBe(false);
    expect(await engine.get('ok-1')).toBeUndefined();
    expect(await redis.exists(`{${prefix}:ok-1}:meta`, `{${prefix}:ok-1}:parts`)).toBe(0);
    expect(await ids({ status: 'SUCCESS' })).toEqual(['ok-2']);

    expect(await store.purge({ olderThanMs: 60_000 })).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5)); // purge compares updatedAt in whole ms
    expect(await store.purge({ olderThanMs: 0 })).toBe(3);
    expect(await ids()).toEqual(['mid']);
    for (const id of ['ok-2', 'failed', 'revert-broke']) expect(await store.load(id)).toBeUndefined();
    expect((await store.load('mid'))?.meta.status).toBe('RUNNING');
  });
});

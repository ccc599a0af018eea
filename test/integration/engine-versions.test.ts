import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  type FlowEvent,
  FlowVersionMismatchError,
  redisStore,
  type Store,
} from '../../src/index.js';
import {
  countOf,
  type EffectLog,
  PROVISION_RESULTS,
  parkProvision,
  provisionFlow,
  redisEffects,
} from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';
import { dumpPrefix } from '../support/redis-dump.js';

/**
 * Invariant 5, code changes are caught: a run records flow name, version and structural hash; resuming
 * with another structure fails with FlowVersionMismatchError and leaves the stored run untouched, while a
 * new version string over the same structure is allowed and reported.
 */
describe('resuming with changed code (invariant 5)', () => {
  let redis: Redis;
  let prefix: string;
  let log: EffectLog;
  let store: Store;
  const engines: Engine[] = [];

  const openEngine = (version: string, extraTask = false) => {
    const flow = provisionFlow(log, { label: `v${version}` }, { version, extraTask });
    const engine = createEngine({ store, flows: [flow] });
    engines.push(engine);
    return engine;
  };

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('version');
    log = redisEffects(redis, prefix);
    store = redisStore({ redis, prefix });
  });

  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses a changed structure with FlowVersionMismatchError and leaves every key as it was', async () => {
    await parkProvision(store, log, 'changed');
    const before = await dumpPrefix(redis, prefix);
    const changed = openEngine('2', true);

    const error = await changed.resume('changed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowVersionMismatchError);
    expect(error).toMatchObject({ runId: 'changed', flow: 'provision' });
    const { storedHash, currentHash } = error as FlowVersionMismatchError;
    expect(storedHash).not.toBe(currentHash);
    await expect(changed.revert('changed')).rejects.toBeInstanceOf(FlowVersionMismatchError);
    expect(await dumpPrefix(redis, prefix)).toEqual(before);

    // The run is intact: the code that started it can still finish it.
    const run = await openEngine('1').resume('changed');
    expect(await run.result).toEqual(PROVISION_RESULTS);
    expect(countOf(await log.all())).toEqual({ reserve: 1, format: 1, tag: 1, attach: 2, boot: 1 });
  });

  it('allows a new version string over the same structure and reports it', async () => {
    await parkProvision(store, log, 'renamed');
    const events: FlowEvent[] = [];
    const engine = openEngine('2');
    const run = await engine.resume('renamed');
    run.on('flow', (event) => events.push(event));
    expect(await run.result).toEqual(PROVISION_RESULTS);

    expect(events.filter((e) => e.versionChanged)).toEqual([
      expect.objectContaining({ versionChanged: { from: '1', to: '2' } }),
    ]);
    expect((await store.load('renamed'))?.meta).toMatchObject({ version: '2', status: 'SUCCESS' });
  });
});

import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, redisStore, type Store } from '../../src/index.js';
import {
  countOf,
  type EffectLog,
  PROVISION_RESULTS,
  parkProvision,
  provisionFlow,
  redisEffects,
} from '../support/flows.js';
import { testPrefix } from '../support/redis.js';
import { cleanClusterPrefix, type OwnedCluster, startRedisCluster } from '../support/redis-cluster.js';

/**
 * Flows on a 3-node Redis Cluster: runs spread over every master (a run's keys share one hash tag, so
 * its Lua scripts stay on one slot), and a second engine with its own Cluster client resumes a run the
 * first one left mid-run.
 */
describe('engines on a Redis Cluster', () => {
  let cluster: OwnedCluster;
  let clientA: Cluster;
  let clientB: Cluster;
  let prefix: string;
  let log: EffectLog;
  let storeA: Store;
  let storeB: Store;
  let engineA: Engine;
  let engineB: Engine;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    clientA = cluster.connect();
    clientB = cluster.connect();
    prefix = testPrefix('cluster');
    log = redisEffects(clientA, prefix);
    storeA = redisStore({ redis: clientA, prefix });
    storeB = redisStore({ redis: clientB, prefix });
    engineA = createEngine({ store: storeA, flows: [provisionFlow(log, { label: 'A' })] });
    engineB = createEngine({ store: storeB, flows: [provisionFlow(log, { label: 'B' })] });
  });

  afterAll(async () => {
    await engineA?.close();
    await engineB?.close();
    await storeA?.close();
    await storeB?.close();
    if (clientA) await cleanClusterPrefix(clientA, prefix);
    await clientA?.quit();
    await clientB?.quit();
    await cluster?.stop();
  });

  /** Run ids whose keys land on each of the cluster's masters, `perNode` per master. */
  const idsOnEveryNode = async (perNode: number): Promise<string[]> => {
    const slots = await clientA.cluster('SLOTS');
    const nodeOf = (slot: number) => slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
    const byNode = new Map<number, string[]>();
    for (let i = 0; [...byNode.values()].filter((ids) => ids.length >= perNode).length < slots.length; i++) {
      const id = `run-${i}`;
      const slot = (await clientA.cluster('KEYSLOT', `{${prefix}:${id}}:meta`)) as number;
      const ids = byNode.get(nodeOf(slot)) ?? [];
      if (ids.length < perNode) byNode.set(nodeOf(slot), [...ids, id]);
    }
    return [...byNode.values()].flat();
  };

  it('runs flows whose keys live on every master, and lists them', async () => {
    const ids = await idsOnEveryNode(2);
    expect(ids).toHaveLength(6);
    const results = await Promise.all(ids.map((id) => engineA.run('provision', { name: 'web' }, { id })));
    for (const result of results) expect(result).toEqual(PROVISION_RESULTS);
    const listed = (await storeB.list({ status: 'SUCCESS', flow: 'provision' })).map((m) => m.id);
    expect(listed.sort()).toEqual([...ids].sort());
    const info = await engineB.get(ids[0]!);
    expect(info?.results).toEqual(PROVISION_RESULTS);
  });

  it('lets a second engine resume a run the first left mid-run', async () => {
    await parkProvision(storeA, log, 'handed-over');
    const run = await engineB.resume('handed-over');
    expect(await run.result).toEqual(PROVISION_RESULTS);
    const effects = (await log.all()).filter((e) => e.key.startsWith('handed-over:'));
    expect(countOf(effects)).toEqual({ reserve: 1, format: 1, tag: 1, attach: 2, boot: 1 });
    expect(effects.filter((e) => e.label === 'B').map((e) => e.task)).toEqual(['attach', 'boot']);
    expect(await storeA.load('handed-over')).toMatchObject({ token: 2, meta: { status: 'SUCCESS' } });
  });
});

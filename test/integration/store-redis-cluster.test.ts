import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/store/redis-store.js';
import { testPrefix } from '../support/redis.js';
import { cleanClusterPrefix, type OwnedCluster, startRedisCluster } from '../support/redis-cluster.js';
import { startOneNodeCluster } from '../support/redis-server.js';
import { describeStoreContract, meta } from './store-contract.js';

let cluster: OwnedCluster;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  client = cluster.connect();
}, 60_000);

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

const cleanCluster = (prefix: string) => cleanClusterPrefix(client, prefix);

describeStoreContract('redisStore (Redis Cluster)', async () => {
  const prefix = testPrefix('cluster');
  const store = redisStore({ redis: client, prefix });
  return {
    store,
    async cleanup() {
      await store.close();
      await cleanCluster(prefix);
    },
  };
});

describe('redisStore on a Redis Cluster', () => {
  it('keeps each run on one slot while runs and indexes spread over the nodes', async () => {
    const prefix = testPrefix('cluster');
    const store = redisStore({ redis: client, prefix });
    try {
      for (let i = 0; i < 20; i++) await store.create(meta(`run-${i}`), { a: String(i) });
      const slotOf = async (key: string) => Number(await client.cluster('KEYSLOT', key));
      const slots = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const metaSlot = await slotOf(`{${prefix}:run-${i}}:meta`);
        expect(await slotOf(`{${prefix}:run-${i}}:parts`)).toBe(metaSlot);
        slots.add(metaSlot);
      }
      expect(slots.size).toBeGreaterThan(1);
      const owners = await Promise.all(
        client.nodes('master').map((node) => node.scan('0', 'MATCH', `*${prefix}*`, 'COUNT', 1000)),
      );
      expect(owners.filter(([, keys]) => keys.length > 0).length).toBeGreaterThan(1);
      expect(await store.list({ limit: 1000 })).toHaveLength(20);
    } finally {
      await store.close();
      await cleanCluster(prefix);
    }
  });
});

describe('redisStore with a plain client on a cluster-enabled server (one shard, as behind some proxies)', () => {
  it('falls back to separate index updates on the first CROSSSLOT and loses nothing', async () => {
    const server = await startOneNodeCluster();
    try {
      const store = redisStore({ redis: server.url, prefix: 'tw' });
      expect(await store.create(meta('r1', { status: 'RUNNING' }), { a: '1' })).toBe(true);
      const { token } = (await store.claim('r1', 'engine-a'))!;
      await store.save({
        runId: 'r1',
        token,
        seq: 1,
        meta: meta('r1', { status: 'SUCCESS' }),
        set: { a: '2' },
      });
      expect(await store.load('r1')).toMatchObject({
        seq: 1,
        meta: { status: 'SUCCESS' },
        parts: { a: '2' },
      });
      expect((await store.list({ status: 'SUCCESS' })).map((m) => m.id)).toEqual(['r1']);
      expect(await store.list({ status: 'RUNNING' })).toEqual([]);
      expect(await store.delete('r1')).toBe(true);
      expect(await store.list()).toEqual([]);
      await store.close();
    } finally {
      await server.stop();
    }
  }, 30_000);
});

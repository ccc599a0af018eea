import type { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  createEngine,
  createWorker,
  type Engine,
  redisStore,
  type Store,
  type Worker,
} from '../../src/index.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from './redis.js';
import { cleanClusterPrefix, type OwnedCluster, startRedisCluster } from './redis-cluster.js';

/**
 * Engines and workers of distributed execution for a test, on one Redis or on a test-owned 3-master
 * Redis Cluster: `useDistributedHarness(target)` (inside a describe) registers the hooks that start the
 * target and close everything a test opened; `setup(label)` gives a fresh prefix with its engines,
 * workers, stores and admin client. On the Cluster a run's keys (`{prefix:runId}`) and its queues
 * (`{prefix}`) are on different slots; `id(base)` picks a run id whose keys are on another master than
 * the queue, so every step goes through the run's outbox.
 */
type Flows = Parameters<typeof createWorker>[0]['flows'];

export interface Target {
  name: string;
  cluster: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A new connection for a store, the admin client or a test's reads. */
  connect(): Redis | Cluster;
  clean(admin: Redis | Cluster, prefix: string): Promise<void>;
  /** The test-owned Cluster (Cluster target only, once started). */
  owned?(): OwnedCluster;
}

export const ONE_REDIS: Target = {
  name: 'one Redis',
  cluster: false,
  start: async () => {},
  stop: async () => {},
  connect: () => newRedis(REDIS_URL),
  clean: (admin, prefix) => cleanPrefix(admin as Redis, prefix),
};

/** A target that starts its own 3-master Cluster before the tests and stops it after. */
export function clusterTarget(): Target & { owned(): OwnedCluster } {
  let owned: OwnedCluster | undefined;
  return {
    name: 'a 3-master Redis Cluster',
    cluster: true,
    start: async () => {
      owned = await startRedisCluster();
    },
    stop: async () => {
      await owned?.stop();
    },
    connect: () => owned!.connect(),
    clean: (admin, prefix) => cleanClusterPrefix(admin as Cluster, prefix),
    owned: () => owned!,
  };
}

/** The port of the master serving `key`. */
export async function masterOf(client: Cluster, key: string): Promise<number> {
  const slot = (await client.cluster('KEYSLOT', key)) as number;
  const slots = await client.cluster('SLOTS');
  return slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
}

export function useDistributedHarness(target: Target) {
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(() => target.start());
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => target.stop());

  const connect = () => {
    const client = target.connect();
    cleanups.push(async () => {
      await client.quit();
    });
    return client;
  };

  function setup(label: string) {
    const prefix = testPrefix(label);
    const admin = connect();
    cleanups.push(() => target.clean(admin, prefix));
    const stores: Store[] = [];
    const store = (): Store => {
      const s = redisStore({ redis: connect(), prefix });
      stores.push(s);
      cleanups.push(() => s.close());
      return s;
    };
    return {
      prefix,
      admin,
      stores,
      store,
      engine(flows: Flows): Engine {
        const engine = createEngine({ store: store(), flows, execution: 'distributed' });
        cleanups.push(() => engine.close());
        return engine;
      },
      worker(flows: Flows, options: Partial<Parameters<typeof createWorker>[0]> = {}): Worker {
        const w = createWorker({ store: store(), flows, pollMs: 20, ...options });
        cleanups.push(() => w.close());
        return w;
      },
      /** A run id; on the Cluster one whose keys are on another master than the queue `default`. */
      async id(base: string): Promise<string> {
        if (!target.cluster) return base;
        const cluster = admin as Cluster;
        const queueNode = await masterOf(cluster, `{${prefix}}:q:default`);
        for (let i = 0; ; i++) {
          const id = `${base}-${i}`;
          if ((await masterOf(cluster, `{${prefix}:${id}}:meta`)) !== queueNode) return id;
        }
      },
      /** Outbox entries still registered, and entry keys (or abandoned marks) left on any master. */
      async outboxLeft(): Promise<{ registered: number; keys: string[] }> {
        const registered = await admin.zcard(`{${prefix}}:outbox`);
        const nodes = target.cluster ? (admin as Cluster).nodes('master') : [admin as Redis];
        const keys: string[] = [];
        for (const node of nodes) keys.push(...(await node.keys(`{${prefix}:*}:outbox:*`)));
        return { registered, keys };
      },
    };
  }

  return { setup, cleanups };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { type OwnedRedis, startRedis } from './redis-server.js';

const exec = promisify(execFile);

/** A throwaway Redis Cluster of test-owned `redis-server`s (masters only), stopped by `stop()`. */
export interface OwnedCluster {
  nodes: OwnedRedis[];
  /** A new ioredis `Cluster` client for it; the caller quits it. */
  connect(): Cluster;
  stop(): Promise<void>;
}

/**
 * Start `size` cluster-enabled servers on free ports, join them with `redis-cli --cluster create`
 * and wait until every node reports `cluster_state:ok`.
 *
 * @example
 * const cluster = await startRedisCluster();
 * const client = cluster.connect();
 * // ...
 * await client.quit();
 * await cluster.stop();
 */
export async function startRedisCluster(size = 3, deadlineMs = 20_000): Promise<OwnedCluster> {
  const nodes: OwnedRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startRedis([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await exec('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk(nodes, deadlineMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes,
    connect: () => new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))),
    stop,
  };
}

async function waitForClusterOk(nodes: readonly OwnedRedis[], deadlineMs: number): Promise<void> {
  const clients = nodes.map((node) => new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
  try {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.cluster('INFO')));
      if (infos.every((info) => String(info).includes('cluster_state:ok'))) return;
      if (Date.now() > until)
        throw new Error(`Redis Cluster did not reach cluster_state:ok within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await Promise.all(clients.map((client) => client.quit()));
  }
}

/** Delete every key under a prefix on every master, one key at a time (keys of one DEL must share a slot). */
export async function cleanClusterPrefix(client: Cluster, prefix: string): Promise<void> {
  await Promise.all(
    client.nodes('master').map(async (node) => {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        cursor = next;
        await Promise.all(keys.map((key) => node.del(key)));
      } while (cursor !== '0');
    }),
  );
}

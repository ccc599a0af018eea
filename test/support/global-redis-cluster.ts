import { type OwnedCluster, startRedisCluster } from './redis-cluster.js';

/**
 * Vitest global setup of the `distributed-cluster` project: a test-owned 3-master Redis Cluster for
 * the behavioural suite in distributed mode, its ports passed to the test workers in
 * TASKWEAVE_TEST_CLUSTER (comma-separated). Stopped after the run.
 */
let cluster: OwnedCluster | undefined;

export async function setup(): Promise<void> {
  cluster = await startRedisCluster();
  process.env.TASKWEAVE_TEST_CLUSTER = cluster.nodes.map((node) => String(node.port)).join(',');
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

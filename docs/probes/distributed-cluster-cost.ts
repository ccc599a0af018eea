// What a distributed step costs on a Redis Cluster (the outbox: four scripts and two commands per
// step) against a single Redis (dispatchRun: one script), on servers this probe starts and stops.
//
//   npx tsx docs/probes/distributed-cluster-cost.ts [runs=40]
//
// One chain10 run at a time (10 tasks in a line, nothing to execute), distributed, one worker in this
// process; prints the median ms per task over 3 rounds, the commands this process sent per task (a
// script counts once: round trips, blocking reads and the worker's polling included) and the script
// calls per task as Redis counted them (cmdstat_evalsha + eval, summed over every master). Then 100
// runs at once: Redis CPU per task on each server (INFO cpu), to show how much of it lands on the
// master holding the prefix's queues (`{prefix}`) rather than spreading with the runs.
import { type Cluster, Redis } from 'ioredis';
import { createEngine, createWorker, linear, redisStore, task } from '../../src/index.js';
import { startRedisCluster } from '../../test/support/redis-cluster.js';
import { startRedis } from '../../test/support/redis-server.js';

const runs = Number(process.argv[2] ?? 40);
const chain = linear(
  'chain10',
  Array.from({ length: 10 }, (_, i) => task({ name: `t${i}`, execute: () => i })),
);

// Every command any client of this process sends (a Cluster sends through one Redis per node).
let sent = 0;
const send = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
  sent++;
  return send.apply(this, args);
};

async function scripts(nodes: readonly Redis[]): Promise<number> {
  let total = 0;
  for (const node of nodes) {
    const info = await node.info('commandstats');
    for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) total += Number(m[1]);
  }
  return total;
}

/** Seconds of CPU a server has used (user + sys). */
async function cpu(node: Redis): Promise<number> {
  const info = await node.info('cpu');
  const read = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return read('used_cpu_user') + read('used_cpu_sys');
}

async function measure(label: string, client: Redis | Cluster, nodes: readonly Redis[]): Promise<void> {
  const prefix = `probe-${label}`;
  const engine = createEngine({
    store: redisStore({ redis: client, prefix }),
    flows: [chain],
    execution: 'distributed',
  });
  const store = redisStore({ redis: client, prefix });
  const worker = createWorker({ store, flows: [chain], pollMs: 50 });
  await worker.start();
  for (let i = 0; i < 5; i++) await engine.run(chain); // warm up
  const perTask: number[] = [];
  let sentPerTask = 0;
  let scriptsPerTask = 0;
  for (let round = 0; round < 3; round++) {
    const before = await scripts(nodes);
    const sentBefore = sent;
    const started = performance.now();
    for (let i = 0; i < runs; i++) await engine.run(chain);
    perTask.push((performance.now() - started) / (runs * 10));
    sentPerTask = (sent - sentBefore) / (runs * 10);
    scriptsPerTask = ((await scripts(nodes)) - before) / (runs * 10);
  }
  // 100 runs at once: each server's CPU per task.
  const cpuBefore = await Promise.all(nodes.map(cpu));
  await Promise.all(Array.from({ length: 100 }, () => engine.run(chain)));
  const cpuAfter = await Promise.all(nodes.map(cpu));
  const queuesPort =
    'isCluster' in client && client.isCluster
      ? await portOf(client as Cluster, `{${prefix}}:q:default`)
      : undefined;
  const perServer = nodes.map((node, i) => {
    const us = ((cpuAfter[i]! - cpuBefore[i]!) * 1e6) / 1_000;
    return `${node.options.port}${node.options.port === queuesPort ? ' (queues)' : ''} ${us.toFixed(0)} µs`;
  });
  if (process.env.PROBE_COMMANDS) {
    // Where each server's time went (cumulative since it started): the five costliest commands.
    for (const node of nodes) {
      const info = await node.info('commandstats');
      const top = [...info.matchAll(/cmdstat_(\w+(?:\|\w+)?):calls=(\d+),usec=(\d+)/g)]
        .map(([, name, calls, usec]) => ({ name, calls: Number(calls), usec: Number(usec) }))
        .sort((a, b) => b.usec - a.usec)
        .slice(0, 5);
      console.log(
        `  ${node.options.port}: ${top.map((c) => `${c.name} ${c.calls} calls ${c.usec} µs`).join('; ')}`,
      );
    }
  }
  perTask.sort((a, b) => a - b);
  console.log(
    `${label}: ${perTask[1]!.toFixed(2)} ms per task (rounds ${perTask.map((v) => v.toFixed(2)).join(', ')}), ` +
      `${sentPerTask.toFixed(1)} commands sent per task, ${scriptsPerTask.toFixed(1)} script calls per task; ` +
      `100 runs at once, Redis CPU per task: ${perServer.join(', ')}`,
  );
  await worker.close();
  await engine.close();
  await store.close();
}

async function portOf(client: Cluster, key: string): Promise<number> {
  const slot = (await client.cluster('KEYSLOT', key)) as number;
  const slots = await client.cluster('SLOTS');
  return slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
}

const single = await startRedis();
const singleClient = new Redis(single.port, '127.0.0.1');
const cluster = await startRedisCluster();
const clusterClient = cluster.connect();
const masters = cluster.nodes.map((n) => new Redis(n.port, '127.0.0.1'));
try {
  await measure('single', singleClient, [singleClient]);
  await measure('cluster', clusterClient, masters);
} finally {
  for (const m of masters) m.disconnect();
  singleClient.disconnect();
  clusterClient.disconnect();
  await single.stop();
  await cluster.stop();
}

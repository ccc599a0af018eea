/**
 * A process on a Redis Cluster that stops dead between a distributed step's run write and its relay:
 * the step's outbox entry is stored with the run, its messages and deadlines are not sent. The
 * cluster's tests check that a worker of another process relays the entry.
 *
 *   node --import tsx test/support/cluster-outbox-child.ts <ports,comma-separated> <prefix> start <runId>
 *   node --import tsx test/support/cluster-outbox-child.ts <ports,comma-separated> <prefix> work
 *
 * `start`: an engine starts a distributed `chain` run and is SIGKILLed right after the run's create
 * stored the entry of its first task. `work`: a worker executes `chain` tasks and is SIGKILLed right
 * after the write of its first outcome stored the entry of the next task. Prints `READY` once
 * taking tasks (work), and `STORED <runId>` just before the kill.
 */
import { Cluster } from 'ioredis';
import { createEngine, createWorker, redisStore } from '../../src/index.js';
import { queuesOf } from '../../src/store/redis-queues.js';
import { chainFlow, redisEffects } from './flows.js';

const [ports, prefix, role, runId] = process.argv.slice(2);
if (!ports || !prefix || (role !== 'start' && role !== 'work') || (role === 'start' && !runId)) {
  process.stderr.write('usage: cluster-outbox-child.ts <ports> <prefix> start <runId> | work\n');
  process.exit(2);
}
const cluster = new Cluster(ports.split(',').map((port) => ({ host: '127.0.0.1', port: Number(port) })));
const store = redisStore({ redis: cluster, prefix });
const flow = chainFlow(redisEffects(cluster, prefix), { label: `child-${role}` });
queuesOf(store)!.outbox.onStored = (id) => {
  // A pipe's writes are synchronous on Linux: the line is out before the kill.
  process.stdout.write(`STORED ${id}\n`);
  process.kill(process.pid, 'SIGKILL');
};
if (role === 'start') {
  const engine = createEngine({ store, flows: [flow], execution: 'distributed' });
  engine.start(flow, { seed: 's' }, { id: runId! });
} else {
  const worker = createWorker({ store, flows: [flow], pollMs: 20 });
  await worker.start();
  process.stdout.write('READY\n');
}
setInterval(() => {}, 1_000);

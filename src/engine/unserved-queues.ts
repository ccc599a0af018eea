import type { CompiledFlow } from '../compile/compile.js';
import { queuesOf, type RunQueues } from '../store/redis-queues.js';
import type { Store, StoredRun } from '../store/store.js';
import { DISTRIBUTED_OWNER } from './distributed-step.js';
import type { UnservedTask } from './explain.js';
import { versionQueue } from './version-queues.js';

/**
 * A distributed run's busy tasks whose queue no live worker reads, by task (the queue is known from
 * the flow's code), or whose message waits in its flow version's queue with no live worker knowing
 * that version. Undefined for runs an engine drives.
 */
export async function unservedQueues(
  store: Store,
  stored: StoredRun,
  compiled: CompiledFlow,
): Promise<((task: string) => UnservedTask | undefined) | undefined> {
  const queues = queuesOf(store);
  const { meta } = stored;
  if (!queues || meta.owner !== DISTRIBUTED_OWNER) return undefined;
  const queueOf = (task: string) => compiled.graph.byName.get(task)?.task.queue ?? 'default';
  const names = [...new Set(compiled.graph.tasks.map((t) => queueOf(t.name)))];
  const versionOf = (queue: string) => versionQueue(queue, meta.flow, meta.hash);
  const unserved = await queues.unserved([...names, ...names.map(versionOf)]);
  const passedOn = new Set<string>();
  for (const queue of names) {
    if (!unserved.has(versionOf(queue))) continue;
    for (const task of await tasksWaitingIn(queues, versionOf(queue), meta.id)) passedOn.add(task);
  }
  const needsFlow = { flow: meta.flow, version: meta.version, hash: meta.hash };
  return (task) => {
    if (passedOn.has(task)) return { queue: versionOf(queueOf(task)), needsFlow };
    return unserved.has(queueOf(task)) ? { queue: queueOf(task) } : undefined;
  };
}

/** The run's tasks with a message in `queue` (a version queue: short, its messages deleted when done). */
async function tasksWaitingIn(queues: RunQueues, queue: string, runId: string): Promise<string[]> {
  const entries = await queues.connection.call(
    'read version queue',
    runId,
    (client) => client.xrange(queues.queueKey(queue), '-', '+', 'COUNT', 1000),
    undefined,
    { write: false },
  );
  const tasks: string[] = [];
  for (const [, fields] of entries) {
    const at = fields.indexOf('m');
    try {
      const message = JSON.parse(fields[at + 1] ?? '') as { r?: unknown; t?: unknown };
      if (message.r === runId && typeof message.t === 'string') tasks.push(message.t);
    } catch {}
  }
  return tasks;
}

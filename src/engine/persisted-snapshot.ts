import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';
import { splitBusyState } from '../compile/lanes.js';
import { TASK_ACTORS, taskActorId } from '../model/names.js';

/**
 * A run snapshot as stored, split: the same data as XState's `getPersistedSnapshot()`, without its deep
 * walk of the context looking for actor references (a run's context holds none: only plain data; that
 * walk is O(size of the context) per write, which would make a 1,000-task flow pay for every task on
 * every transition), and with each child actor apart (`childJson`), so that the part written on every
 * write (the head) does not grow with the number of running tasks.
 *
 * The head is the snapshot without its children; the caller picks the context fields it stores.
 */
export function headJson(snapshot: AnyMachineSnapshot, context: Record<string, unknown>): string {
  const head: Record<string, unknown> = {
    status: snapshot.status,
    value: storedValue(snapshot.value),
    context,
    historyValue: {},
  };
  if (snapshot.output !== undefined) head.output = snapshot.output;
  if (snapshot.error !== undefined) head.error = snapshot.error;
  return JSON.stringify(head);
}

/**
 * The actor `task`'s busy state invokes, as XState persists a child (`snapshot`, `src`, `systemId`,
 * `syncSnapshot`) with its `id`; `null` when the task has none.
 */
export function childJson(snapshot: AnyMachineSnapshot, task: string): string {
  const children = snapshot.children as Record<string, AnyActorRef | undefined>;
  for (const { prefix } of Object.values(TASK_ACTORS)) {
    const id = taskActorId(prefix, task);
    const child = children[id];
    if (child === undefined) continue;
    return JSON.stringify({
      id,
      snapshot: child.getPersistedSnapshot(),
      src: child.src,
      systemId: (child as unknown as { systemId?: string }).systemId,
      syncSnapshot: (child as unknown as { _syncSnapshot?: boolean })._syncSnapshot,
    });
  }
  return 'null';
}

/**
 * The state value as stored: a busy lane's flat state (`<task>:RUNNING`, lanes.ts) as the nested value
 * `{ <task>: 'RUNNING' }` that releases before the flat states stored and read, so that a run this
 * release writes can still be continued by one of those (a rolling deploy); joinSnapshot reads both.
 */
function storedValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const stored: Record<string, unknown> = {};
  for (const [lane, state] of Object.entries(value as Record<string, unknown>)) {
    const busy = typeof state === 'string' ? splitBusyState(state) : undefined;
    stored[lane] = busy ? { [busy.task]: busy.state } : state;
  }
  return stored;
}

import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';

/**
 * The same object as XState's `getPersistedSnapshot()`, without its deep walk of the context looking
 * for actor references (a run's context holds none: only plain data). That walk is O(size of the
 * context) per write, which would make a 1,000-task flow pay for every task on every transition.
 */
export function persistedSnapshot(snapshot: AnyMachineSnapshot): Record<string, unknown> {
  const children: Record<string, unknown> = {};
  for (const [id, child] of Object.entries(snapshot.children as Record<string, AnyActorRef>)) {
    children[id] = {
      snapshot: child.getPersistedSnapshot(),
      src: child.src,
      systemId: (child as unknown as { systemId?: string }).systemId,
      syncSnapshot: (child as unknown as { _syncSnapshot?: boolean })._syncSnapshot,
    };
  }
  const persisted: Record<string, unknown> = {
    status: snapshot.status,
    value: snapshot.value,
    context: snapshot.context,
    historyValue: {},
    children,
  };
  if (snapshot.output !== undefined) persisted.output = snapshot.output;
  if (snapshot.error !== undefined) persisted.error = snapshot.error;
  return persisted;
}

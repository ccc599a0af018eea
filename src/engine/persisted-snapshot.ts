import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';

/**
 * A run snapshot as stored: the same data as XState's `getPersistedSnapshot()`, as JSON text, without
 * its deep walk of the context looking for actor references (a run's context holds none: only plain
 * data; that walk is O(size of the context) per write, which would make a 1,000-task flow pay for every
 * task on every transition).
 *
 * `head` is the snapshot without its children (the caller picks the context fields it stores);
 * the children follow as the last key. A child's entry is made once per snapshot of that child: a
 * running task's actor keeps one snapshot until it settles, so a write stringifies only the children
 * started since the last one, not every running task's input again (a wide flow has many).
 */
export function persistedJson(snapshot: AnyMachineSnapshot, context: Record<string, unknown>): string {
  const head: Record<string, unknown> = {
    status: snapshot.status,
    value: snapshot.value,
    context,
    historyValue: {},
  };
  if (snapshot.output !== undefined) head.output = snapshot.output;
  if (snapshot.error !== undefined) head.error = snapshot.error;
  let children = '';
  for (const [id, child] of Object.entries(snapshot.children as Record<string, AnyActorRef>)) {
    children += `${children ? ',' : ''}${JSON.stringify(id)}:${childJson(child)}`;
  }
  const text = JSON.stringify(head);
  return `${text.slice(0, -1)},"children":{${children}}}`;
}

/**
 * Children's persisted entries, by the child snapshot each was made from: a child's snapshot is its
 * own object, and a new one replaces it when the child changes (the old entry goes with it).
 */
const entries = new WeakMap<object, string>();

/** A child's persisted entry as XState writes it (`snapshot`, `src`, `systemId`, `syncSnapshot`). */
function childJson(child: AnyActorRef): string {
  const snapshot = child.getSnapshot() as object;
  let json = entries.get(snapshot);
  if (json === undefined) {
    json = JSON.stringify({
      snapshot: child.getPersistedSnapshot(),
      src: child.src,
      systemId: (child as unknown as { systemId?: string }).systemId,
      syncSnapshot: (child as unknown as { _syncSnapshot?: boolean })._syncSnapshot,
    });
    // JSON.stringify builds its text in pieces joined by cons strings; reading a character makes V8
    // flatten it into one string, so the entry kept for the child's life is ~95 bytes smaller.
    json.charCodeAt(0);
    entries.set(snapshot, json);
  }
  return json;
}

import { createActor, fromPromise } from 'xstate';
import { SnapshotCorruptError } from '../src/errors.js';
import { parse, stringify } from '../src/model/codec.js';
import { LifecycleEventError, LifecycleStoppedError } from './errors.js';
import {
  type ActionInput,
  inProgress,
  type LifecycleEvent,
  type LifecycleMachine,
  type LifecycleSnapshot,
  stateName,
} from './lifecycle.js';

/**
 * The code behind an action: start the work, resolve with its result (kept in `context.outputs`), or
 * throw (kept in `context.error` as a plain record). `signal` aborts when the resource moves on without
 * waiting (e.g. DELETE while BUILDING; `signal.reason` is an `AbortError`) or the runner stops (the
 * reason is a `LifecycleStoppedError`: leave the work for the next runner). Runs at least once per `input.key`.
 */
export type LifecycleAction = (input: ActionInput, signal: AbortSignal) => Promise<unknown>;

/** Where snapshots go: `save` after every transition, `load` (undefined if none) on start. */
export interface LifecycleStore {
  load(resourceId: string): Promise<unknown>;
  save(resourceId: string, snapshot: unknown): Promise<void>;
}

export interface RunLifecycleOptions {
  /** The resource's id: the store key, and `resourceId` in the context of a new resource. */
  resourceId: string;
  /** One function per action the machine invokes, by name. */
  actions: Readonly<Record<string, LifecycleAction>>;
  store: LifecycleStore;
}

export interface LifecycleRun {
  readonly resourceId: string;
  getSnapshot(): LifecycleSnapshot;
  /** Send an event the current state allows (else `LifecycleEventError`); resolves once the move is saved. */
  send(event: LifecycleEvent): Promise<LifecycleSnapshot>;
  /** Resolves when no action runs (or the resource is final) and that snapshot is saved. */
  settled(): Promise<LifecycleSnapshot>;
  /** Resolves once a snapshot satisfies `ready` and is saved; rejects with `LifecycleStoppedError` on stop. */
  waitFor(ready: (snapshot: LifecycleSnapshot) => boolean): Promise<LifecycleSnapshot>;
  /** Stop without saving the stopped snapshot (so a new runner resumes); aborts running actions. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Run one resource's lifecycle: loads its snapshot from `store` (or starts it new), saves every
 * transition, and starts an action only after the snapshot showing it in progress is saved. An action
 * that was running when the last runner died runs again with the same input.
 *
 * @example
 * const run = await runLifecycle(serverMachine, { resourceId: 'srv-1', store, actions: { create, stop, ... } });
 * await run.send({ type: 'CREATE', flavor: 'm1.small' });
 * const snapshot = await run.settled(); // ACTIVE, or ERROR with snapshot.context.error
 */
export async function runLifecycle(
  machine: LifecycleMachine,
  options: RunLifecycleOptions,
): Promise<LifecycleRun> {
  const { resourceId, actions, store } = options;
  checkActions(machine, actions);
  const stored = await store.load(resourceId);
  if (stored !== undefined) checkSnapshot(machine, resourceId, stored);

  let saved = stored === undefined ? undefined : stringify(stored);
  let writes: Promise<void> = Promise.resolve();
  let stopped: LifecycleStoppedError | undefined;
  const waiters = new Set<() => void>();

  // Resolves once every save queued so far is done; never if the store failed (the actor is stopped
  // then, and no outcome the store could not record may be reported).
  const durable = () => writes.then(() => (stopped ? new Promise<never>(() => {}) : undefined));
  const bound = Object.fromEntries(
    Object.entries(actions).map(([name, action]) => [
      name,
      fromPromise<unknown, ActionInput>(async ({ input, signal }) => {
        // The child starts inside the macrostep, before observers queue its snapshot: let them, then wait.
        await Promise.resolve();
        await durable();
        signal.throwIfAborted();
        // XState aborts without a reason; say why: the runner stopping (its LifecycleStoppedError: the
        // work is left to a runner that restores the resource) or the resource moving on (an AbortError).
        const controller = new AbortController();
        signal.addEventListener('abort', () => controller.abort(stopped), { once: true });
        return action(input, controller.signal);
      }),
    ]),
  );
  // `input` is only read for a new resource; a stored snapshot carries its own context.
  const actor = createActor(machine.provide({ actors: bound }), {
    input: { resourceId },
    ...(stored === undefined ? {} : { snapshot: stored as LifecycleSnapshot }),
  });

  const halt = (cause?: unknown) => {
    if (stopped) return;
    stopped = new LifecycleStoppedError(resourceId, cause === undefined ? undefined : { cause });
    subscription.unsubscribe();
    actor.stop();
    for (const wake of waiters) wake();
  };
  const persist = () => {
    const text = stringify(actor.getPersistedSnapshot());
    if (text !== saved) {
      saved = text;
      writes = writes.then(() => (stopped ? undefined : store.save(resourceId, parse(text))));
      writes.catch(halt);
    }
    for (const wake of waiters) wake();
  };
  const subscription = actor.subscribe({ next: persist, error: halt });
  actor.start();

  const waitFor = (ready: (snapshot: LifecycleSnapshot) => boolean) =>
    new Promise<LifecycleSnapshot>((resolve, reject) => {
      const wake = () => {
        if (stopped) reject(stopped);
        else if (ready(actor.getSnapshot())) resolve(writes.then(() => actor.getSnapshot()));
        else return;
        waiters.delete(wake);
      };
      waiters.add(wake);
      wake();
    });

  return {
    resourceId,
    getSnapshot: () => actor.getSnapshot(),
    waitFor,
    async send(event) {
      if (stopped) throw stopped;
      const snapshot = actor.getSnapshot();
      if (snapshot.status !== 'active' || !snapshot.can(event)) {
        throw new LifecycleEventError(resourceId, stateName(snapshot), event.type, allowedEvents(snapshot));
      }
      actor.send(event);
      return waitFor(() => true);
    },
    settled: () => waitFor((snapshot) => snapshot.status !== 'active' || !inProgress(snapshot)),
    async stop() {
      halt();
      await writes.catch(() => {});
    },
  };
}

/** Events the current state accepts, without XState's internal ones. */
export function allowedEvents(snapshot: LifecycleSnapshot): string[] {
  const node = snapshot.machine.root.states[stateName(snapshot)];
  return snapshot.status === 'active' && node
    ? node.ownEvents.filter((event) => !event.startsWith('xstate.'))
    : [];
}

function checkActions(machine: LifecycleMachine, actions: Readonly<Record<string, LifecycleAction>>): void {
  const needed = Object.keys(machine.implementations.actors);
  const missing = needed.filter((name) => typeof actions[name] !== 'function');
  const unknown = Object.keys(actions).filter((name) => !needed.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new TypeError(
      `Expected one function per action of lifecycle \`${machine.id}\` (${needed.join(', ')}), got ${[
        missing.length ? `none for ${missing.join(', ')}` : '',
        unknown.length ? `unknown ${unknown.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and ')}.`,
    );
  }
}

/** A stored snapshot must be this machine's, for this resource, and not errored (starting one would throw). */
function checkSnapshot(machine: LifecycleMachine, resourceId: string, stored: unknown): void {
  const snapshot = stored as Partial<LifecycleSnapshot> | null;
  const problem =
    typeof snapshot !== 'object' || snapshot === null
      ? `expected a snapshot object, got ${typeof stored}`
      : snapshot.status !== 'active' && snapshot.status !== 'done'
        ? `status is \`${String(snapshot.status)}\``
        : typeof snapshot.value !== 'string' || !(snapshot.value in machine.states)
          ? `state \`${String(snapshot.value)}\` is not a state of \`${machine.id}\``
          : snapshot.context?.resourceId !== resourceId
            ? `it belongs to \`${String(snapshot.context?.resourceId)}\``
            : undefined;
  if (problem) throw new SnapshotCorruptError(resourceId, problem);
}

/**
 * A store in this process's memory, with the codec's serialisation (what a Redis store would keep).
 *
 * @example
 * const store = memoryLifecycleStore();
 * const run = await runLifecycle(volumeMachine, { resourceId: 'vol-1', store, actions });
 */
export function memoryLifecycleStore(): LifecycleStore & { readonly saves: number } {
  const snapshots = new Map<string, string>();
  let saves = 0;
  return {
    get saves() {
      return saves;
    },
    async load(resourceId) {
      const text = snapshots.get(resourceId);
      return text === undefined ? undefined : parse(text);
    },
    async save(resourceId, snapshot) {
      saves += 1;
      snapshots.set(resourceId, stringify(snapshot));
    },
  };
}

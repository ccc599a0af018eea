import { createActor, fromPromise } from 'xstate';
import { InvalidOptionError, SnapshotCorruptError } from '../src/index.js';
import { parse, stringify } from '../src/model/codec.js';
import { toFailureRecord as toFailure } from '../src/model/failure-record.js';
import {
  ActionTimeoutError,
  LifecycleEventError,
  LifecycleNotFinalError,
  LifecycleStoppedError,
} from './errors.js';
import {
  type ActionInput,
  CANCEL_FAILED,
  CANCELLED,
  type InterruptedAction,
  inProgress,
  type LifecycleEvent,
  type LifecycleMachine,
  type LifecycleSnapshot,
  stateName,
} from './lifecycle.js';
import { INTERNAL_PREFIX } from './table.js';

/** What an action's `cancel` is told: which run of it to undo. */
export interface CancelInput {
  resourceId: string;
  action: string;
  /** The interrupted run's key (`input.key` of the call that was interrupted). */
  key: string;
  /** The in-progress state it ran in. */
  state: string;
}

/**
 * The code behind an action: start the work, resolve with its result (kept in `context.outputs`), or
 * throw (kept in `context.error` as a plain record). `signal` aborts when the resource moves on without
 * waiting (e.g. DELETE while BUILDING; `signal.reason` is an `AbortError`), when the state's `timeoutMs`
 * runs out (an `ActionTimeoutError`) or when the runner stops (a `LifecycleStoppedError`: leave the work
 * for the next runner). Runs at least once per `input.key`.
 *
 * `cancel`, if given, undoes the run with that key after an interrupt or a timeout; it must be
 * idempotent and work in another process (a restored runner calls it again). `flowActions` reverts the run.
 */
export type LifecycleAction = ((input: ActionInput, signal: AbortSignal) => Promise<unknown>) & {
  cancel?: (input: CancelInput) => Promise<void>;
};

/** Where snapshots go: `save` after every transition, `load` (undefined if none) on start. */
export interface LifecycleStore {
  load(resourceId: string): Promise<unknown>;
  save(resourceId: string, snapshot: unknown): Promise<void>;
  /**
   * Delete a resource's record once it is final (retention): true if deleted, false if there was none;
   * a record that is not final is refused with `LifecycleNotFinalError`.
   */
  delete?(resourceId: string): Promise<boolean>;
}

export interface RunLifecycleOptions {
  /** The resource's id: the store key, and `resourceId` in the context of a new resource. */
  resourceId: string;
  /** One function per action the machine invokes, by name. */
  actions: Readonly<Record<string, LifecycleAction>>;
  store: LifecycleStore;
  /**
   * Delete the resource's record from the store once its final state is saved (needs `store.delete`).
   * @default false (the final record stays, e.g. for audits)
   */
  deleteWhenFinal?: boolean;
}

export interface LifecycleRun<S extends string = string> {
  readonly resourceId: string;
  getSnapshot(): LifecycleSnapshot<S>;
  /** Send an event the current state allows (else `LifecycleEventError`); resolves once the move is saved. */
  send(event: LifecycleEvent): Promise<LifecycleSnapshot<S>>;
  /**
   * Resolves when no action runs and every interrupted action's work is cancelled (or the resource is
   * final), and that snapshot is saved.
   */
  settled(): Promise<LifecycleSnapshot<S>>;
  /** Resolves once a snapshot satisfies `ready` and is saved; rejects with `LifecycleStoppedError` on stop. */
  waitFor(ready: (snapshot: LifecycleSnapshot<S>) => boolean): Promise<LifecycleSnapshot<S>>;
  /** Stop without saving the stopped snapshot (so a new runner resumes); aborts running actions. Idempotent. */
  stop(): Promise<void>;
}

type RunAction = (name: string, input: ActionInput, signal: AbortSignal) => Promise<unknown>;
/** Each runner's actions, by its actor's system: the machine's actors find their runner through it. */
const runners = new WeakMap<object, RunAction>();
const provided = new WeakMap<LifecycleMachine, LifecycleMachine>();

/**
 * The machine with actors that call the runner of the actor system they run in. Built once per
 * machine (`provide` re-creates the machine: ~14 ms for the server table), not once per runner.
 */
function dispatching(machine: LifecycleMachine): LifecycleMachine {
  let done = provided.get(machine);
  if (!done) {
    const actors = Object.fromEntries(
      Object.keys(machine.implementations.actors).map((name) => [
        name,
        fromPromise<unknown, ActionInput>(({ input, signal, system }) =>
          runners.get(system)!(name, input, signal),
        ),
      ]),
    );
    done = machine.provide({ actors }) as LifecycleMachine;
    provided.set(machine, done);
  }
  return done;
}

/**
 * Run one resource's lifecycle: loads its snapshot from `store` (or starts it new), saves every
 * transition, and starts an action only after the snapshot showing it in progress is saved. An action
 * that was running when the last runner died runs again with the same input; one whose deadline passed
 * meanwhile times out at once. Actions left by an interrupt or a timeout are cancelled (their `cancel`)
 * before the next action starts, also after a restore.
 *
 * @example
 * const run = await runLifecycle(serverMachine, { resourceId: 'srv-1', store, actions: { create, stop, ... } });
 * await run.send({ type: 'CREATE', flavor: 'm1.small' });
 * const snapshot = await run.settled(); // ACTIVE, or ERROR with snapshot.context.error
 */
export async function runLifecycle<S extends string>(
  machine: LifecycleMachine<S>,
  options: RunLifecycleOptions,
): Promise<LifecycleRun<S>> {
  const { resourceId, actions, store } = options;
  checkActions(machine, actions);
  if (options.deleteWhenFinal && typeof store.delete !== 'function') {
    throw new InvalidOptionError(
      'store',
      'a store with `delete` (for `deleteWhenFinal: true`)',
      store,
      'one without',
    );
  }
  const stored = await store.load(resourceId);
  if (stored !== undefined) checkSnapshot(machine, resourceId, stored);

  let saved = stored === undefined ? undefined : stringify(stored);
  let writes: Promise<void> = Promise.resolve();
  let stopped: LifecycleStoppedError | undefined;
  const waiters = new Set<() => void>();
  /** Interrupted actions whose cancel is under way in this runner, by key. */
  const paying = new Set<string>();

  // Resolves once every save queued so far is done; never if the store failed (the actor is stopped
  // then, and no outcome the store could not record may be reported).
  const durable = () => writes.then(() => (stopped ? new Promise<never>(() => {}) : undefined));

  /** Resolves once no interrupted action is left to cancel; rejects when `signal` aborts. */
  const interruptsCancelled = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const wake = () => {
        if (signal.aborted) reject(signal.reason);
        else if (actor.getSnapshot().context.interrupted.length === 0) resolve();
        else return;
        waiters.delete(wake);
        signal.removeEventListener('abort', wake);
      };
      waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
      wake();
    });

  /** An action's run in this runner: after its in-progress snapshot is saved and interrupts are cancelled. */
  const runAction = async (name: string, input: ActionInput, signal: AbortSignal) => {
    // The child starts inside the macrostep, before observers queue its snapshot: let them, then wait.
    await Promise.resolve();
    await durable();
    signal.throwIfAborted();
    // XState aborts without a reason; say why: the runner stopping (its LifecycleStoppedError: the
    // work is left to a runner that restores the resource), a timeout, or the resource moving on.
    const controller = new AbortController();
    signal.addEventListener('abort', () => controller.abort(stopped), { once: true });
    return withDeadline(
      async () => {
        await interruptsCancelled(controller.signal);
        return actions[name]!(input, controller.signal);
      },
      input,
      controller,
    );
  };
  // `input` is only read for a new resource; a stored snapshot carries its own context.
  const actor = createActor(dispatching(machine), {
    input: { resourceId },
    ...(stored === undefined ? {} : { snapshot: stored as LifecycleSnapshot }),
  });
  runners.set(actor.system, runAction);
  const snapshotNow = () => actor.getSnapshot() as LifecycleSnapshot<S>;

  const halt = (cause?: unknown) => {
    if (stopped) return;
    stopped = new LifecycleStoppedError(resourceId, cause === undefined ? undefined : { cause });
    subscription.unsubscribe();
    actor.stop();
    for (const wake of waiters) wake();
  };

  /** Cancel what an interrupted action started, then record that in the snapshot. */
  const pay = async (debt: InterruptedAction) => {
    paying.add(debt.key);
    try {
      await durable(); // the snapshot recording the interrupt is saved before anything is undone
      const cancel = actions[debt.action]?.cancel;
      let failure: unknown;
      try {
        if (cancel) await cancel({ resourceId, action: debt.action, key: debt.key, state: debt.state });
      } catch (error) {
        failure = error;
      }
      if (stopped || actor.getSnapshot().status !== 'active') return;
      actor.send(
        failure === undefined
          ? { type: CANCELLED, key: debt.key }
          : { type: CANCEL_FAILED, key: debt.key, failure: toFailure(failure) },
      );
    } finally {
      paying.delete(debt.key);
    }
  };

  let finalDeleted = false;
  const persist = () => {
    const snapshot = actor.getSnapshot();
    const text = stringify(actor.getPersistedSnapshot());
    if (text !== saved) {
      saved = text;
      writes = writes.then(() => (stopped ? undefined : store.save(resourceId, parse(text))));
      if (options.deleteWhenFinal && snapshot.status === 'done' && !finalDeleted) {
        finalDeleted = true;
        writes = writes.then(async () => {
          if (!stopped) await store.delete!(resourceId);
        });
      }
      writes.catch(halt);
    }
    if (snapshot.status === 'active') {
      for (const debt of snapshot.context.interrupted) if (!paying.has(debt.key)) void pay(debt);
    }
    for (const wake of waiters) wake();
  };
  const subscription = actor.subscribe({ next: persist, error: halt });
  actor.start();
  persist(); // a restored snapshot with interrupted actions: cancel them now

  const waitFor = (ready: (snapshot: LifecycleSnapshot<S>) => boolean) =>
    new Promise<LifecycleSnapshot<S>>((resolve, reject) => {
      const wake = () => {
        if (stopped) reject(stopped);
        else if (ready(snapshotNow())) resolve(writes.then(snapshotNow));
        else return;
        waiters.delete(wake);
      };
      waiters.add(wake);
      wake();
    });

  return {
    resourceId,
    getSnapshot: snapshotNow,
    waitFor,
    async send(event) {
      if (stopped) throw stopped;
      const snapshot = snapshotNow();
      if (
        snapshot.status !== 'active' ||
        String(event?.type).startsWith(INTERNAL_PREFIX) ||
        !snapshot.can(event)
      ) {
        throw new LifecycleEventError(
          resourceId,
          stateName(snapshot),
          String(event?.type),
          allowedEvents(snapshot),
        );
      }
      actor.send(event);
      return waitFor(() => true);
    },
    settled: () =>
      waitFor(
        (snapshot) =>
          snapshot.status !== 'active' ||
          (!inProgress(snapshot) && snapshot.context.interrupted.length === 0),
      ),
    async stop() {
      halt();
      await writes.catch(() => {});
    },
  };
}

/**
 * Race an action against its stored deadline: when it passes, abort the action with an
 * `ActionTimeoutError` and fail with it (the table's error transition, which records the run to cancel).
 */
function withDeadline(
  start: () => Promise<unknown>,
  input: ActionInput,
  controller: AbortController,
): Promise<unknown> {
  const { deadline, timeoutMs } = input;
  if (deadline === null || timeoutMs === null) return start();
  const expired = () => new ActionTimeoutError(input.resourceId, input.action, input.state, timeoutMs);
  // Restored after its deadline: time is up, and the action is not started again.
  if (deadline <= Date.now()) return Promise.reject(expired());
  const work = start();
  work.catch(() => {}); // it may settle after we gave up on it: not an unhandled rejection
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = expired();
      controller.abort(error);
      reject(error);
    }, deadline - Date.now());
    const clear = () => clearTimeout(timer);
    controller.signal.addEventListener('abort', clear, { once: true });
    work.then(resolve, reject).finally(clear);
  });
}

/** Events the current state accepts, without XState's or the runner's internal ones. */
export function allowedEvents(snapshot: LifecycleSnapshot): string[] {
  const node = snapshot.machine.root.states[stateName(snapshot)];
  return snapshot.status === 'active' && node
    ? node.ownEvents.filter((event) => !event.startsWith('xstate.') && !event.startsWith(INTERNAL_PREFIX))
    : [];
}

function checkActions(machine: LifecycleMachine, actions: Readonly<Record<string, LifecycleAction>>): void {
  const needed = Object.keys(machine.implementations.actors);
  const missing = needed.filter((name) => typeof actions[name] !== 'function');
  const unknown = Object.keys(actions).filter((name) => !needed.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new InvalidOptionError(
      'actions',
      `one function per action of lifecycle \`${machine.id}\` (${needed.join(', ')})`,
      actions,
      [
        missing.length ? `none for ${missing.join(', ')}` : '',
        unknown.length ? `unknown ${unknown.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and '),
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
            : !Array.isArray(snapshot.context?.interrupted) || typeof snapshot.context?.facts !== 'object'
              ? 'its context lacks `interrupted` or `facts` (written by an older taskweave?)'
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
export function memoryLifecycleStore(): LifecycleStore & {
  readonly saves: number;
  delete(resourceId: string): Promise<boolean>;
} {
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
    async delete(resourceId) {
      const text = snapshots.get(resourceId);
      if (text === undefined) return false;
      const { status, value } = JSON.parse(text) as { status?: string; value?: unknown };
      if (status !== 'done') throw new LifecycleNotFinalError(resourceId, String(value));
      return snapshots.delete(resourceId);
    },
  };
}

import type { AnyActorRef, PromiseActorLogic, PromiseSnapshot } from 'xstate';

/**
 * XState's `fromPromise`, except that a task's `AbortSignal` is made only when the task reads it.
 *
 * Why: `fromPromise` makes an `AbortController` for every promise it starts, and Node's
 * `createAbortSignal` was the hottest non-XState function of a one-run-at-a-time profile (~4% of the
 * run), while most tasks never look at their signal. Everything else is `fromPromise`'s behaviour:
 * the same snapshot (so stored runs rehydrate the same way), done/error on settle, abort on stop.
 */
export class LazySignal {
  private controller: AbortController | undefined;
  private stopped = false;

  /** The signal, made on first read; already aborted if the actor stopped before that. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort();
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.stopped;
  }

  abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.controller?.abort();
  }
}

export interface EffectParams<TInput> {
  input: TInput;
  signal: LazySignal;
}

/** Where an effect reports its outcome: once, either way. */
export interface EffectSettle<T> {
  done(value: T): void;
  fail(error: unknown): void;
}

/**
 * An effect that reports its outcome to `settle` instead of returning a promise: a task's effect is a
 * chain (the durability barrier, then the task's own promise, then its result's encoding), and a
 * promise returned for it would be one more promise resolved with the next, each link held while the
 * task runs (measured: ~0.4 KB per running task).
 */
export type SettlingEffect<TOutput, TInput> = (
  params: EffectParams<TInput>,
  settle: EffectSettle<TOutput>,
) => void;

/** An effect returning a promise, as a settling one. */
export function settling<TOutput, TInput>(
  effect: (params: EffectParams<TInput>) => PromiseLike<TOutput>,
): SettlingEffect<TOutput, TInput> {
  return (params, settle) => {
    Promise.resolve(effect(params)).then(
      (value) => settle.done(value),
      (error) => settle.fail(error),
    );
  };
}

const RESOLVE = 'taskweave.effect.resolve';
const REJECT = 'taskweave.effect.reject';
const STOP = 'xstate.stop';

/** What an effect actor's done event carries as `output`: the effect's value and when it resolved. */
export interface Settled<T> {
  value: T;
  at: number;
}

/** What an effect actor's error event carries as `error`: what the effect threw and when. */
export interface Failed {
  error: unknown;
  at: number;
}

/** Running effects by actor: stopping an actor aborts its effect's signal. */
const running = new WeakMap<AnyActorRef, RunningEffect<unknown>>();

/**
 * One running effect: its signal, made when read, and where it settles. One object for both, as
 * every running task holds it.
 */
class RunningEffect<T> extends LazySignal implements EffectSettle<T> {
  constructor(private readonly self: AnyActorRef) {
    super();
  }

  // The outcome carries its time, stamped here where it is born: the machine's transitions read no clock.
  done(value: T): void {
    this.send(RESOLVE, { value, at: Date.now() } satisfies Settled<T>);
  }

  fail(error: unknown): void {
    this.send(REJECT, { error, at: Date.now() } satisfies Failed);
  }

  private send(type: string, data: unknown): void {
    if (this.self.getSnapshot().status !== 'active') return;
    running.delete(this.self);
    this.self.send({ type, data });
  }
}

/**
 * The actor logic of an effect. Its `config` is the effect as a function returning a promise (a
 * distributed worker calls it outside any actor).
 */
export function fromEffect<TOutput, TInput>(
  effect: SettlingEffect<TOutput, TInput>,
): PromiseActorLogic<Settled<TOutput>, TInput> {
  const asPromise = (params: EffectParams<TInput>) =>
    new Promise<TOutput>((done, fail) => effect(params, { done, fail }));
  return {
    config: asPromise,
    transition: (snapshot, event, scope) => {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case RESOLVE:
          return { ...snapshot, status: 'done', output: event.data as Settled<TOutput>, input: undefined };
        case REJECT:
          return { ...snapshot, status: 'error', error: event.data, input: undefined };
        case STOP:
          running.get(scope.self)?.abort();
          running.delete(scope.self);
          return { ...snapshot, status: 'stopped', input: undefined };
        default:
          return snapshot;
      }
    },
    start: (snapshot, scope) => {
      if (snapshot.status !== 'active') return;
      const effectRun = new RunningEffect<TOutput>(scope.self);
      running.set(scope.self, effectRun as RunningEffect<unknown>);
      // Called at once, as fromPromise does: an async effect's first await decides when it yields.
      effect({ input: snapshot.input as TInput, signal: effectRun }, effectRun);
    },
    getInitialSnapshot: (_, input) =>
      ({ status: 'active', output: undefined, error: undefined, input }) as PromiseSnapshot<
        Settled<TOutput>,
        TInput
      >,
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<Settled<TOutput>, TInput>,
  };
}

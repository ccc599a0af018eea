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

export function fromEffect<TOutput, TInput>(
  effect: (params: EffectParams<TInput>) => PromiseLike<TOutput>,
): PromiseActorLogic<Settled<TOutput>, TInput> {
  const signals = new WeakMap<AnyActorRef, LazySignal>();
  return {
    config: effect,
    transition: (snapshot, event, scope) => {
      if (snapshot.status !== 'active') return snapshot;
      switch (event.type) {
        case RESOLVE:
          return { ...snapshot, status: 'done', output: event.data as Settled<TOutput>, input: undefined };
        case REJECT:
          return { ...snapshot, status: 'error', error: event.data, input: undefined };
        case STOP:
          signals.get(scope.self)?.abort();
          signals.delete(scope.self);
          return { ...snapshot, status: 'stopped', input: undefined };
        default:
          return snapshot;
      }
    },
    start: (snapshot, { self }) => {
      if (snapshot.status !== 'active') return;
      const signal = new LazySignal();
      signals.set(self, signal);
      const settle = (type: string, data: unknown) => {
        if (self.getSnapshot().status !== 'active') return;
        signals.delete(self);
        self.send({ type, data });
      };
      // Called at once, as fromPromise does: an async effect's first await decides when it yields.
      // The outcome carries its time, stamped here where it is born: the machine's transitions read no clock.
      Promise.resolve(effect({ input: snapshot.input as TInput, signal })).then(
        (value) => settle(RESOLVE, { value, at: Date.now() } satisfies Settled<TOutput>),
        (error) => settle(REJECT, { error, at: Date.now() } satisfies Failed),
      );
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

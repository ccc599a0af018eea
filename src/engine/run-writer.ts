import type { RunStepEvent } from '../compile/compile.js';
import { RunExistsError, StoreUnavailableError } from '../errors.js';
import type { NewRunEvent } from '../store/run-history.js';
import type { RunMeta, RunStatus, RunWrite, Store } from '../store/store.js';
import { type BackstoppedWrite, unwatchWrite, watchWrite } from './write-backstop.js';
import { taskEvent, writeEvents } from './write-events.js';

/** What changed since the last write, as the reducer's steps said: the parts the next write carries. */
export interface Dirty {
  /** Tasks whose record (`t:<task>` part) changed. */
  tasks: Set<string>;
  /** The queue of waiting tasks was replaced. */
  queue: boolean;
  /** A failure list was replaced. */
  failures: boolean;
}

const clean = (): Dirty => ({ tasks: new Set(), queue: false, failures: false });

/** Barriers waiting for a write: settled once a write up to `target` is acknowledged. */
interface Waiter {
  target: number;
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Writes one run's snapshots to the store, in order, one write in flight at a time: changes made while
 * a write is in flight are coalesced into the next. Many runs' writers run at once, so one engine's
 * writes are pipelined across runs (group commit) while staying ordered per run.
 *
 * `barrier()` is the durability barrier of invariant 1: it resolves once a write that includes the
 * current state has been acknowledged.
 */
export interface RunWriterOptions {
  store: Store;
  runId: string;
  token: number;
  seq: number;
  meta: RunMeta;
  /** Produce the changed parts for the current state (`dirty`: what the steps since the last write changed). */
  snapshot(dirty: Dirty): { parts: Record<string, string>; status: RunStatus };
  /** Called once when the writer gives up: lease lost, corrupt store, or store unavailable past the deadline. */
  onFatal(error: Error): void;
  /** Called after each acknowledged write with the last `mark()` it made durable. */
  onDurable?(target: number): void;
  /** How long a write may wait for an unavailable store (the store is told; see pump): the engine's. */
  unavailableDeadlineMs: number;
  /**
   * A fresh run: its first write creates it, with these parts (inputs) beside the first snapshot's,
   * so starting a run costs no round trip of its own. A run with that id already stored makes the
   * writer fail with `RunExistsError` before any task's effect started (they wait for that write).
   */
  create?: Record<string, string>;
}

export class RunWriter implements BackstoppedWrite {
  private wanted = 0;
  private acked = 0;
  private pumping = false;
  private dirty: Dirty = clean();
  private waiters: Waiter[] = [];
  private fatal: Error | undefined;
  private seq: number;
  private meta: RunMeta;
  private create: Record<string, string> | undefined;
  /** History events since the last write: run statuses and task changes, appended by the next write. */
  private statusEvents: NewRunEvent[] = [];
  private taskEvents: NewRunEvent[] = [];
  /** The run status the history last recorded (a fresh run's history starts with its first). */
  private status: RunStatus | undefined;
  /** Settles once the run's first write (its create, for a fresh run) is acknowledged or has failed. */
  get firstWrite(): Promise<void> {
    if (this.firstDone) return Promise.resolve();
    // Made when asked (a history or watch of a run started a moment ago): most runs never are.
    return new Promise((resolve) => {
      this.firstWaiters ??= [];
      this.firstWaiters.push(resolve);
    });
  }
  private firstDone = false;
  private firstWaiters: (() => void)[] | undefined;
  /** Why the writer let go of its writes (killed, or past the backstop); set once. */
  private letGoReason: Error | undefined;
  /**
   * Aborted when the writer lets go: the store stops retrying (and waiting for) its write then. Made
   * when a store reads it (see `writeOptions`): the memory store never does, and making a signal showed
   * in profiles of short runs.
   */
  private letGo: AbortController | undefined;
  /** What every write of this run tells the store: one object per writer, not one per write. */
  private readonly writeOptions: { readonly signal: AbortSignal; readonly deadlineMs: number };
  /** The target of the last write begun: a barrier asked after it needs the next write. */
  private begun = 0;
  /** When the backstop lets go of the write in flight (the writer is that write, as it sees it). */
  due = 0;

  /** The first write is acknowledged or has failed: whoever asked for `firstWrite` goes on. */
  private firstWritten(): void {
    if (this.firstDone) return;
    this.firstDone = true;
    const waiters = this.firstWaiters;
    this.firstWaiters = undefined;
    for (const resolve of waiters ?? []) resolve();
  }

  /** The options, less a fresh run's create parts and its first meta: needed until the first write only. */
  private readonly options: Omit<RunWriterOptions, 'create' | 'meta'>;

  constructor(options: RunWriterOptions) {
    const { create, meta, ...kept } = options;
    this.options = kept;
    this.seq = options.seq;
    this.meta = meta;
    this.create = create;
    this.status = create ? undefined : meta.status;
    const writer = this;
    this.writeOptions = {
      get signal() {
        return writer.signal();
      },
      deadlineMs: options.unavailableDeadlineMs,
    };
  }

  /** The signal the store is given, aborted once the writer lets go (made on first read). */
  private signal(): AbortSignal {
    if (!this.letGo) {
      this.letGo = new AbortController();
      if (this.letGoReason) this.letGo.abort(this.letGoReason);
    }
    return this.letGo.signal;
  }

  /** Let go of the writes: the store is told through the signal, and the write in flight fails with `reason`. */
  private release(reason: Error): void {
    if (this.letGoReason) return;
    this.letGoReason = reason;
    this.letGo?.abort(reason);
  }

  /**
   * Note one step of the run's reducer (the machine's `step` event): the parts it changed and the
   * history events it records go in the next write.
   */
  recordStep(step: RunStepEvent): void {
    for (const change of step.changed) {
      this.dirty.tasks.add(change.task);
      this.taskEvents.push(taskEvent(change));
    }
    if (step.queueChanged) this.dirty.queue = true;
    if (step.failuresChanged) this.dirty.failures = true;
    if (step.status) this.recordStatus(step.status, step.at);
    this.touch();
  }

  /** Record a task's state change that no step made (a resumed task started again) for the run's history. */
  recordTask(event: Omit<NewRunEvent, 'at'>, at: number): void {
    this.taskEvents.push({ at, ...event });
  }

  /** Note the run's status; a change is recorded in its history (before the write's task events). */
  private recordStatus(status: RunStatus, at: number): void {
    if (status === this.status) return;
    this.status = status;
    this.statusEvents.push({ at, state: status });
  }

  /** Note that the run changed; a write follows soon. */
  touch(): void {
    this.wanted += 1;
    this.schedule();
  }

  /** Note that the run changed, and return the mark `onDurable` reports once that change is stored. */
  mark(): number {
    this.touch();
    return this.wanted;
  }

  /** Resolves when the state as it is now is durable. */
  barrier(): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    this.touch();
    // Barriers asked before the next write begins are all settled by it: they share one promise (the
    // tasks a step starts together wait for the same write).
    const last = this.waiters.at(-1);
    if (last && last.target > this.begun) {
      last.target = this.wanted;
      return last.promise;
    }
    const waiter = { target: this.wanted } as Waiter;
    waiter.promise = new Promise((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.waiters.push(waiter);
    return waiter.promise;
  }

  /** Stop writing; pending barriers reject with `error`. */
  kill(error: Error): void {
    if (this.fatal) return;
    this.fatal = error;
    this.release(error);
    this.firstWritten();
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private schedule(): void {
    if (this.pumping || this.fatal) return;
    this.pumping = true;
    // A microtask: the actor's macrostep is synchronous, so by then the state is complete.
    queueMicrotask(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      while (!this.fatal && this.acked < this.wanted) {
        const target = this.wanted;
        this.begun = target;
        const dirty = this.dirty;
        this.dirty = clean();
        const { parts, status } = this.options.snapshot(dirty);
        this.meta = { ...this.meta, status, updatedAt: Date.now() };
        // A status no step reported: a fresh run's first (its context starts RUNNING).
        if (status !== this.status) this.recordStatus(status, this.meta.updatedAt);
        const events = writeEvents(this.statusEvents, this.taskEvents);
        this.statusEvents = [];
        this.taskEvents = [];
        // Retrying an unavailable store is the store's own policy (redisStore's is src/redis/call.ts): it
        // is told the engine's deadline, so it gives up within it with an error that names the client's
        // error and whether the write may have landed, and it is told to stop at once, through the
        // signal, when the writer is killed. A store that ignores `deadlineMs` is stopped a little later
        // by the signal (write-backstop.ts).
        watchWrite(this, this.writeOptions.deadlineMs);
        try {
          if (this.create) {
            // Version 0: the next write is seq 1.
            const { store } = this.options;
            const writer = this;
            const created = await store.create(this.meta, Object.assign(parts, this.create), {
              get signal() {
                return writer.signal();
              },
              deadlineMs: this.writeOptions.deadlineMs,
              events,
            });
            if (!created) throw new RunExistsError(this.options.runId);
            this.create = undefined;
          } else {
            const write: RunWrite = {
              runId: this.options.runId,
              token: this.options.token,
              seq: this.seq + 1,
              meta: this.meta,
              set: parts,
              events,
            };
            await this.options.store.save(write, this.writeOptions);
            this.seq = write.seq;
          }
        } catch (error) {
          // Let go of (killed, or past the backstop): that, not what the store made of it, is the reason.
          throw this.letGoReason ?? error;
        } finally {
          unwatchWrite(this);
        }
        this.acked = target;
        this.firstWritten();
        this.options.onDurable?.(target);
        // Waiters are in the order of their targets: the ones this write settles come first.
        let settled = 0;
        while (settled < this.waiters.length && this.waiters[settled]!.target <= target) settled++;
        if (settled > 0) for (const w of this.waiters.splice(0, settled)) w.resolve();
      }
    } catch (error) {
      this.kill(error as Error);
      this.options.onFatal(error as Error);
    } finally {
      this.pumping = false;
      if (!this.fatal && this.acked < this.wanted) this.schedule();
    }
  }

  /**
   * The write in flight is past its deadline and the backstop's grace: the store ignored `deadlineMs`.
   * Called by the backstop only.
   */
  expire(): void {
    const deadlineMs = this.options.unavailableDeadlineMs;
    this.release(
      new StoreUnavailableError(
        `The store did not take the write of run \`${this.options.runId}\` within unavailableDeadlineMs of ${deadlineMs} ms. It may or may not have been applied (maybe stored): engine.resume('${this.options.runId}') continues the run from what was stored.`,
        { maybeStored: true },
      ),
    );
  }
}

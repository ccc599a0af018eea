import { RunExistsError, StoreUnavailableError } from '../errors.js';
import type { NewRunEvent } from '../store/run-history.js';
import type { RunMeta, RunStatus, RunWrite, Store } from '../store/store.js';
import { type BackstoppedWrite, unwatchWrite, watchWrite } from './write-backstop.js';

/** Statuses a run stops in: recorded after the task changes of their write. */
const ENDING: ReadonlySet<RunStatus> = new Set(['SUCCESS', 'REVERTED', 'FAILURE', 'SUSPENDED']);

/**
 * When the writer noted a change that came without a time: a run status (the context keeps no time
 * for it; placed before its write's task changes, it takes the first one's time, see pump). Task
 * changes bring the time they were born (`TaskStateEvent.at`).
 */
function changeTime(): number {
  return Date.now();
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
  /** Produce the changed parts for the current state (`dirty`: tasks whose part changed). */
  snapshot(dirty: ReadonlySet<string>): { parts: Record<string, string>; status: RunStatus };
  /** Called once when the writer gives up: lease lost, corrupt store, or store unavailable past the deadline. */
  onFatal(error: Error): void;
  /** Called after each acknowledged write with the last `mark()` it made durable. */
  onDurable?(target: number): void;
  /** How long a write may wait for an unavailable store (the store is told; see persist). @default 30_000 */
  unavailableDeadlineMs?: number;
  /**
   * A fresh run: its first write creates it, with these parts (inputs) beside the first snapshot's,
   * so starting a run costs no round trip of its own. A run with that id already stored makes the
   * writer fail with `RunExistsError` before any task's effect started (they wait for that write).
   */
  create?: Record<string, string>;
}

export class RunWriter {
  private wanted = 0;
  private acked = 0;
  private pumping = false;
  private dirty = new Set<string>();
  private waiters: { target: number; resolve: () => void; reject: (e: Error) => void }[] = [];
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
  readonly firstWrite: Promise<void>;
  private firstWritten!: () => void;
  /** Aborted when the writer gives up: the store stops retrying (and waiting for) its write then. */
  private readonly letGo = new AbortController();
  /** The write in flight as the backstop sees it: let go of when a store ignores `deadlineMs`. */
  private readonly backstop: BackstoppedWrite = { due: 0, expire: () => this.letGoLate() };

  constructor(private readonly options: RunWriterOptions) {
    this.seq = options.seq;
    this.meta = options.meta;
    this.create = options.create;
    this.status = options.create ? undefined : options.meta.status;
    this.firstWrite = new Promise((resolve) => {
      this.firstWritten = resolve;
    });
  }

  /** Record a task's state change for the run's history; the next write stores it with the change. */
  recordTask(event: Omit<NewRunEvent, 'at'>, at: number): void {
    this.taskEvents.push({ at, ...event });
  }

  /** Note the run's status; a change is recorded in its history (before the write's task events). */
  recordStatus(status: RunStatus, at: number = changeTime()): void {
    if (status === this.status) return;
    this.status = status;
    this.statusEvents.push({ at, state: status });
  }

  /** Note that the run changed; a write follows soon. */
  touch(tasks?: Iterable<string>): void {
    if (tasks) for (const t of tasks) this.dirty.add(t);
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
    const target = this.wanted;
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  /** Stop writing; pending barriers reject with `error`. */
  kill(error: Error): void {
    if (this.fatal) return;
    this.fatal = error;
    this.letGo.abort(error);
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
        const dirty = this.dirty;
        this.dirty = new Set();
        const { parts, status } = this.options.snapshot(dirty);
        this.meta = { ...this.meta, status, updatedAt: Date.now() };
        this.recordStatus(status);
        // Within one write, run statuses come before task changes (a watcher learns the run is
        // reverting before it sees tasks revert), except a status the run stops in as this write leaves
        // it: that one comes last, so a history ends with it and a watch that stops there has seen
        // every change. A status changes in the same step as the task change that caused it and is
        // noted just after it: placed before that write's task changes, it takes the time of the first
        // (times never go back along a history).
        const last = this.statusEvents.at(-1);
        const stops = last !== undefined && ENDING.has(last.state as RunStatus);
        const firstTask = this.taskEvents[0]?.at ?? Number.POSITIVE_INFINITY;
        const events = [
          ...(stops ? this.statusEvents.slice(0, -1) : this.statusEvents).map((e) => ({
            ...e,
            at: Math.min(e.at, firstTask),
          })),
          ...this.taskEvents,
          ...(stops ? [last] : []),
        ];
        this.statusEvents = [];
        this.taskEvents = [];
        if (this.create) {
          // Version 0: the next write is seq 1.
          await this.persist((options) =>
            this.options.store.create(this.meta, { ...this.create, ...parts }, { ...options, events }),
          );
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
          await this.persist((options) => this.options.store.save(write, options).then(() => true));
          this.seq = write.seq;
        }
        this.acked = target;
        this.firstWritten();
        this.options.onDurable?.(target);
        const due = this.waiters.filter((w) => w.target <= target);
        this.waiters = this.waiters.filter((w) => w.target > target);
        for (const w of due) w.resolve();
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
   * Write once. Retrying an unavailable store is the store's own policy (redisStore's is
   * src/redis/call.ts): it is told the engine's deadline (`deadlineMs`), so it gives up within it with an
   * error that names the client's error and whether the write may have landed, and it is told to stop at
   * once, through the signal, when the writer is killed. A store that ignores `deadlineMs` is stopped a
   * little later by the signal (write-backstop.ts).
   */
  private async persist(
    write: (options: { signal: AbortSignal; deadlineMs: number }) => Promise<boolean>,
  ): Promise<void> {
    const deadlineMs = this.options.unavailableDeadlineMs ?? 30_000;
    watchWrite(this.backstop, deadlineMs);
    try {
      if (!(await write({ signal: this.letGo.signal, deadlineMs })))
        throw new RunExistsError(this.options.runId);
    } catch (error) {
      // Let go of (killed, or past the backstop): that, not what the store made of it, is the reason.
      if (this.letGo.signal.aborted) throw this.letGo.signal.reason;
      throw error;
    } finally {
      unwatchWrite(this.backstop);
    }
  }

  /** The write in flight is past its deadline and the backstop's grace: the store ignored `deadlineMs`. */
  private letGoLate(): void {
    const deadlineMs = this.options.unavailableDeadlineMs ?? 30_000;
    this.letGo.abort(
      new StoreUnavailableError(
        `The store did not take the write of run \`${this.options.runId}\` within unavailableDeadlineMs of ${deadlineMs} ms. It may or may not have been applied (maybe stored): engine.resume('${this.options.runId}') continues the run from what was stored.`,
        { maybeStored: true },
      ),
    );
  }
}

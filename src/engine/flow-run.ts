import { EventEmitter } from 'node:events';
import type { TaskState } from '../model/task-states.js';
import type { RunStatus } from '../store/store.js';

/** A task's state change, as `run.on('task', ...)` reports it. */
export interface TaskEvent {
  task: string;
  state: TaskState;
  attempt: number;
  /** On SUCCESS. */
  result?: unknown;
  /** On FAILURE, RETRYING and REVERT_FAILURE. */
  error?: Error;
}

/** The run's state changed (`run.on('flow', ...)`). */
export interface FlowEvent {
  state: RunStatus;
  /** Set once when a run is resumed by code with a new version string over the same structure. */
  versionChanged?: { from: string; to: string };
}

export interface ProgressEvent {
  task: string;
  fraction: number;
  details?: unknown;
}

interface RunEvents {
  task: [TaskEvent];
  flow: [FlowEvent];
  progress: [ProgressEvent];
}

const ignore = () => {};

/** What the engine does for a FlowRun's commands. */
export interface RunControls {
  suspend(): Promise<void>;
  cancel(): Promise<void>;
}

/**
 * A run in progress, returned by `engine.start()` and `engine.resume()`.
 *
 * @example
 * const run = engine.start('boot-server', { network: 'net-1' }, { id: 'req-42' });
 * run.on('task', (e) => console.log(e.task, e.state));
 * const results = await run.result;
 */
export class FlowRun<R = Record<string, unknown>> {
  /** Settles when the run ends; never an unhandled rejection by itself. */
  readonly result: Promise<R>;
  private currentStatus: RunStatus = 'PENDING';
  /** Made when the first listener comes: a run nobody listens to (most, under load) holds none. */
  private events: EventEmitter<RunEvents> | undefined;
  private resolve!: (value: R) => void;
  private reject!: (error: Error) => void;
  private settled = false;
  /** Set by the engine before it hands the run out (a run it never drives is settled at once). */
  private controls: RunControls | undefined;

  constructor(readonly id: string) {
    this.result = new Promise<R>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Mark handled: a run nobody awaits must not crash the process. Awaiting it still throws.
    this.result.catch(ignore);
  }

  get status(): RunStatus {
    return this.currentStatus;
  }

  on<K extends keyof RunEvents>(event: K, listener: (...args: RunEvents[K]) => void): this {
    this.events ??= new EventEmitter<RunEvents>();
    this.events.on(event, listener as never);
    return this;
  }

  off<K extends keyof RunEvents>(event: K, listener: (...args: RunEvents[K]) => void): this {
    this.events?.off(event, listener as never);
    return this;
  }

  /** Let running tasks finish, store the run and stop: status SUSPENDED; `result` rejects with RunSuspendedError. */
  async suspend(): Promise<void> {
    if (this.settled) return;
    return this.controls?.suspend();
  }

  /** Abort running tasks and revert what ran; `result` rejects with CancelledError. Resolves when reverted. */
  async cancel(): Promise<void> {
    if (this.settled) return;
    return this.controls?.cancel();
  }

  /** @internal */
  attach(controls: RunControls): void {
    this.controls = controls;
  }

  /** @internal */
  setStatus(status: RunStatus, extra?: Omit<FlowEvent, 'state'>): void {
    if (status === this.currentStatus && !extra) return;
    this.currentStatus = status;
    this.events?.emit('flow', { state: status, ...extra });
  }

  /** @internal */
  emitTask(event: TaskEvent): void {
    this.events?.emit('task', event);
  }

  /** @internal */
  emitProgress(event: ProgressEvent): void {
    this.events?.emit('progress', event);
  }

  /** @internal */
  hasListeners(event: keyof RunEvents): boolean {
    return (this.events?.listenerCount(event) ?? 0) > 0;
  }

  /** @internal */
  finish(outcome: { value: R } | { error: Error }): void {
    if (this.settled) return;
    this.settled = true;
    if ('value' in outcome) this.resolve(outcome.value);
    else this.reject(outcome.error);
  }

  get isSettled(): boolean {
    return this.settled;
  }
}

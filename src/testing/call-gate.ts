import { InjectedFailureError } from './injected-failure.js';

export type CallKind = 'execute' | 'revert';

/** One execute or revert as it happened in a real run: its start, then its end. */
export type TraceEvent =
  | { at: 'start'; kind: CallKind; task: string }
  | { at: 'end'; kind: CallKind; task: string; ok: boolean; error?: string };

/** What the replay tells a held call to do. */
export type Decision = 'run' | 'fail';

interface Held {
  kind: CallKind;
  task: string;
  release: (decision: Decision) => void;
  ended: Promise<{ ok: boolean; error?: string }>;
}

/**
 * Holds every execute and revert of a path-tested run until the replay releases it, so the real engine
 * follows the path's order exactly, and records the run's calls as a trace. A call the path does not
 * expect stays held: the replay sees it and reports it.
 */
export class CallGate {
  readonly trace: TraceEvent[] = [];
  private readonly held: Held[] = [];
  private listeners: (() => void)[] = [];
  private closed = false;

  /** Called by the wrapped task: wait for the replay's decision, then run `body` or fail. */
  async enter<T>(kind: CallKind, task: string, body: () => Promise<T>): Promise<T> {
    this.trace.push({ at: 'start', kind, task });
    let release!: (d: Decision) => void;
    const decision = new Promise<Decision>((resolve) => {
      release = resolve;
    });
    let end!: (e: { ok: boolean; error?: string }) => void;
    const ended = new Promise<{ ok: boolean; error?: string }>((resolve) => {
      end = resolve;
    });
    const held: Held = { kind, task, release, ended };
    this.held.push(held);
    if (this.closed) release('fail');
    this.notify();
    const finish = (ok: boolean, error?: unknown) => {
      const message =
        error === undefined
          ? undefined
          : error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error);
      this.trace.push({ at: 'end', kind, task, ok, ...(message === undefined ? {} : { error: message }) });
      end(message === undefined ? { ok } : { ok, error: message });
    };
    if ((await decision) === 'fail') {
      const error = new InjectedFailureError(task, kind);
      finish(false, error);
      throw error;
    }
    try {
      const value = await body();
      finish(true);
      return value;
    } catch (error) {
      finish(false, error);
      throw error;
    }
  }

  /** Calls waiting for a decision. */
  pending(): readonly { kind: CallKind; task: string }[] {
    return this.held;
  }

  /** Resolves when a call of `kind` for `task` is held (checked at once and on every new call). */
  whenHeld(kind: CallKind, task: string): Promise<void> {
    return this.when(() => this.held.some((h) => h.kind === kind && h.task === task));
  }

  /** Resolves when any call is held. */
  whenAnyHeld(): Promise<void> {
    return this.when(() => this.held.length > 0);
  }

  /** Let a held call go on (`run`) or throw (`fail`); resolves with how it ended. */
  release(kind: CallKind, task: string, decision: Decision): Promise<{ ok: boolean; error?: string }> {
    const at = this.held.findIndex((h) => h.kind === kind && h.task === task);
    if (at < 0) throw new Error(`No held ${kind} of \`${task}\``);
    const [held] = this.held.splice(at, 1);
    held!.release(decision);
    return held!.ended;
  }

  /** Fail every held call, now and later: lets an abandoned run wind down. */
  close(): void {
    this.closed = true;
    for (const h of this.held.splice(0)) h.release('fail');
  }

  private when(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = () => {
        if (!test()) return;
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve();
      };
      this.listeners.push(listener);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

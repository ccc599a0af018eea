import type { FlowRun } from '../engine/flow-run.js';
import type { Lease } from './lease-keeper.js';

/** Why a conductor stopped a held job's run itself. */
export type StopReason = 'refused' | 'overdue' | 'stop' | 'cancelled' | 'suspend';

/** A claim a conductor holds, with its run. */
export interface HeldJob extends Lease {
  run: FlowRun<Record<string, unknown>> | undefined;
  /** The run has shown activity on this engine, so `cancel()` and `suspend()` reach it. */
  active: boolean;
  /** Set when the conductor stopped the run itself, and why. */
  stopped: { reason: StopReason; error: Error } | undefined;
  /** A stop waiting for the run to become active here. */
  pending: 'abort' | 'cancel' | 'suspend' | undefined;
  /** Settles once the job is completed, failed, released or given up here. Never rejects. */
  done: Promise<void>;
}

export function heldJob(id: string, token: number, deadline: number): HeldJob {
  return {
    id,
    token,
    deadline,
    renewing: false,
    run: undefined,
    active: false,
    stopped: undefined,
    pending: undefined,
    done: Promise.resolve(),
  };
}

/**
 * Stops held jobs' runs on the engine: an abort (the run stays stored), a cancel (the run reverts) or a
 * suspend (running tasks finish, the run stays stored).
 * A run that is not active here yet (being created or rehydrated) gets it as soon as it shows activity,
 * or from a short poll, so no run the conductor gave up on keeps going unfenced.
 */
export class RunStopper {
  private poll: NodeJS.Timeout | undefined;
  private readonly waiting = new Set<HeldJob>();

  constructor(private readonly abort: (id: string, reason: Error) => boolean) {}

  /** Record a run the job got (start, resume): apply a waiting stop once it shows activity. */
  attach(held: HeldJob, run: FlowRun<Record<string, unknown>>): void {
    held.run = run;
    // A resumed run is active when resume() resolves; a started one once its creation is stored.
    held.active = run.status !== 'PENDING';
    const onActivity = () => {
      held.active = true;
      if (held.pending) queueMicrotask(() => this.apply(held));
    };
    run.on('task', onActivity);
    run.on('flow', onActivity);
    this.apply(held);
  }

  stop(held: HeldJob, reason: HeldJob['stopped'] & {}): void {
    if (held.stopped) return;
    held.stopped = reason;
    // A suspend waits like a cancel: given while the run is not active here yet (its create in flight,
    // or refused before the resume that follows), it would reach a run that is not the job's.
    held.pending =
      reason.reason === 'cancelled' ? 'cancel' : reason.reason === 'suspend' ? 'suspend' : 'abort';
    this.apply(held);
  }

  /** The job is settled: nothing is waiting for it any more. */
  forget(held: HeldJob): void {
    held.pending = undefined;
    this.waiting.delete(held);
    if (this.waiting.size === 0) this.close();
  }

  close(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  private apply(held: HeldJob): void {
    if (!held.pending || !held.stopped) return;
    if (held.pending === 'abort') {
      if (this.abort(held.id, held.stopped.error)) held.pending = undefined;
    } else if (held.run && held.active) {
      const command = held.pending;
      held.pending = undefined;
      void held.run[command]();
    }
    if (!held.pending) {
      this.waiting.delete(held);
      return;
    }
    this.waiting.add(held);
    this.poll ??= setInterval(() => {
      for (const waiting of [...this.waiting]) this.apply(waiting);
      if (this.waiting.size === 0) this.close();
    }, 20);
  }
}

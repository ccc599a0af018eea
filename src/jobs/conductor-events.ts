import { EventEmitter } from 'node:events';
import type { JobState } from './job-board.js';

/** What a conductor reports, by event name (`conductor.on(name, listener)`). */
export interface ConductorEvents {
  /** A job was claimed (`takeover` when its previous conductor's lease expired). */
  claimed: [{ id: string; flow: string; token: number; takeover: boolean }];
  /** A claimed job's run was taken over from a conductor whose lease expired (after `claimed`). */
  takeover: [{ id: string; token: number; takeovers: number }];
  /** A lease was extended. */
  renewed: [{ id: string; token: number }];
  /**
   * The claim is gone and this conductor stopped the run: `refused` (renewal refused: another
   * conductor has it, `LeaseLostError`; or the job vanished from the board, `JobLostError`), `overdue` (the heartbeat came too late to be sure of the lease), `fenced`
   * (the engine or the board refused a write with a stale token) or `unreachable` (the board did not
   * answer before the lease ran out).
   */
  lost: [
    { id: string; token: number; reason: 'refused' | 'overdue' | 'fenced' | 'unreachable'; error?: Error },
  ];
  /** The run succeeded and the job is COMPLETE. */
  completed: [{ id: string; token: number; results: Record<string, unknown> }];
  /** The run failed: the job is back in the queue (`UNCLAIMED`) or `FAILED` for good. */
  failed: [{ id: string; token: number; error: Error; state: 'UNCLAIMED' | 'FAILED' }];
  /** The claim was given back without counting an attempt (stop, suspended or stopped run). */
  released: [{ id: string; token: number; reason: string }];
  /** An operator cancelled the job: its run was cancelled (reverted). */
  cancelled: [{ id: string; token: number; state?: JobState }];
  /** A board call failed (Redis unreachable: `error` is a StoreUnavailableError); the conductor waits `delayMs` and tries again. Never fatal. */
  backoff: [{ error: Error; delayMs: number; during: string }];
  /** The board answered again after `backoffs` failed calls over `afterMs`: the conductor goes on claiming. */
  recovered: [{ afterMs: number; backoffs: number }];
}

export type ConductorEventName = keyof ConductorEvents;

/** Counters per conductor, since it was created. */
export interface ConductorStats {
  claimed: number;
  takeovers: number;
  renewed: number;
  lost: number;
  completed: number;
  failed: number;
  released: number;
  cancelled: number;
  backoffs: number;
  recoveries: number;
  /** Jobs held right now. */
  running: number;
}

const COUNTED: Record<ConductorEventName, Exclude<keyof ConductorStats, 'running'>> = {
  claimed: 'claimed',
  takeover: 'takeovers',
  renewed: 'renewed',
  lost: 'lost',
  completed: 'completed',
  failed: 'failed',
  released: 'released',
  cancelled: 'cancelled',
  backoff: 'backoffs',
  recovered: 'recoveries',
};

/** Emits a conductor's events and counts them; a listener that throws cannot break the conductor. */
export class ConductorReporter {
  private readonly emitter = new EventEmitter<ConductorEvents>();
  private readonly counts = Object.fromEntries(Object.values(COUNTED).map((k) => [k, 0])) as Omit<
    ConductorStats,
    'running'
  >;

  on<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): void {
    this.emitter.on(event, listener as never);
  }

  off<K extends ConductorEventName>(event: K, listener: (...args: ConductorEvents[K]) => void): void {
    this.emitter.off(event, listener as never);
  }

  emit<K extends ConductorEventName>(event: K, ...args: ConductorEvents[K]): void {
    this.counts[COUNTED[event]] += 1;
    try {
      (this.emitter.emit as (name: string, ...rest: unknown[]) => boolean).call(this.emitter, event, ...args);
    } catch {
      // A listener's bug is the listener's: the conductor's bookkeeping goes on.
    }
  }

  stats(running: number): ConductorStats {
    return { ...this.counts, running };
  }
}

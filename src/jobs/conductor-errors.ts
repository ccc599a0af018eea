import { TaskweaveError } from '../errors.js';
import { registerErrors } from '../model/failure-record.js';

/**
 * Why a conductor stopped a run itself. Each is the reason the run's `result` rejects with (via
 * `engine.abort`) and, for `OrphanRevertedError`, the failure recorded on the job.
 */

/** The conductor was stopped without draining: its runs were aborted (they stay stored) and their claims released. */
export class ConductorStoppedError extends TaskweaveError {
  constructor(
    readonly jobId: string,
    readonly conductor: string,
  ) {
    super(
      `Conductor \`${conductor}\` stopped without draining while job \`${jobId}\` ran; the run is stored and its claim was released for another conductor to resume.`,
    );
  }
}

/**
 * The lease heartbeat came after the lease could have expired (the event loop was starved or the board
 * did not answer): another conductor may hold the job now, so this one stopped the run rather than go
 * on unfenced.
 */
export class LeaseOverdueError extends TaskweaveError {
  constructor(
    readonly jobId: string,
    readonly lateByMs: number,
    readonly leaseMs: number,
  ) {
    super(
      `Lease of job \`${jobId}\` was not renewed in time (${Math.round(lateByMs)} ms past its ${leaseMs} ms lease); the conductor stopped the run. Raise leaseMs if the event loop is often this busy.`,
    );
  }
}

/**
 * The job disappeared from the board while this conductor held it: Redis lost its data (a restart
 * without persistence, a failover, a flush) or someone deleted it. Not a takeover: that is
 * `LeaseLostError`, which would send an operator looking for another conductor that never existed.
 */
export class JobLostError extends TaskweaveError {
  constructor(readonly jobId: string) {
    super(
      `Job \`${jobId}\` is no longer on the board although this conductor held it: Redis lost its data (a restart without persistence, a failover, a flush) or someone deleted it. The conductor stopped its run. Post the job again, or enable appendonly on Redis so a restart keeps jobs.`,
    );
  }
}

/** `onOrphan: 'revert'`: the run of a job whose conductor died was rolled back instead of resumed. */
export class OrphanRevertedError extends TaskweaveError {
  constructor(readonly jobId: string) {
    super(
      `Job \`${jobId}\` lost its conductor and was reverted (onOrphan: 'revert'); everything that ran was rolled back. Retry the job to run it again.`,
    );
  }
}

registerErrors({ ConductorStoppedError, JobLostError, LeaseOverdueError, OrphanRevertedError });

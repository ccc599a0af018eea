import {
  EngineClosedError,
  FlowDefinitionError,
  FlowVersionMismatchError,
  LeaseLostError,
  NotSerializableError,
  RunSuspendedError,
  SnapshotCorruptError,
  StoreUnavailableError,
  UnknownFlowError,
} from '../errors.js';
import { ConductorStoppedError, LeaseOverdueError, OrphanRevertedError } from './conductor-errors.js';
import { JobCorruptError } from './job-board.js';

/** What a conductor does on the board once a job's run has ended (or was stopped). */
export type JobAction =
  | { kind: 'complete'; results: Record<string, unknown> }
  | { kind: 'fail'; error: Error; retry: boolean }
  | { kind: 'release'; reason: string }
  | { kind: 'drop'; error: Error };

/**
 * Failures no new attempt can fix: bad stored data (invariant 6), code that does not match the run,
 * inputs the flow cannot take, and an orphan that was reverted on purpose. They fail the job at once.
 */
const FINAL_FAILURES = [
  SnapshotCorruptError,
  UnknownFlowError,
  FlowVersionMismatchError,
  FlowDefinitionError,
  NotSerializableError,
  JobCorruptError,
  OrphanRevertedError,
];

/**
 * Runs that stopped without an outcome: they stay stored and resumable, so the claim is given back
 * without counting an attempt (suspended, engine closed, conductor stopped or overdue, store down).
 */
const UNFINISHED = [
  RunSuspendedError,
  EngineClosedError,
  ConductorStoppedError,
  LeaseOverdueError,
  StoreUnavailableError,
];

/** How a job's run ended here: its results, or why it did not produce them. */
export type RunOutcome = { results: Record<string, unknown> } | { error: Error };

/**
 * The table from a run's end to a board action: results complete the job; a stale token
 * (`LeaseLostError`: another conductor holds the run) drops it; a run stopped unfinished is released;
 * any other error (`FlowFailedError`, `RevertFailedError`, `CancelledError`, ...) counts an attempt.
 */
export function jobAction(outcome: RunOutcome): JobAction {
  if ('results' in outcome) return { kind: 'complete', results: outcome.results };
  const { error } = outcome;
  if (error instanceof LeaseLostError) return { kind: 'drop', error };
  if (UNFINISHED.some((type) => error instanceof type)) return { kind: 'release', reason: error.name };
  return { kind: 'fail', error, retry: !FINAL_FAILURES.some((type) => error instanceof type) };
}

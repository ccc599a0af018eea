import { allowedMoves, type Move } from './transition-table.js';

/**
 * Run statuses and the run's phases, with their allowed moves as data (like task states in
 * task-states.ts). The scheduler moves a run only along these tables (it checks each move), so a new
 * way for a run to change is a new row here, with its reason.
 */

/** Run states, as users see them on `FlowRun.status` and in stored runs. */
export type RunStatus =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCESS'
  | 'REVERTING'
  | 'REVERTED'
  | 'FAILURE'
  | 'SUSPENDED';

export const RUN_STATUSES: readonly RunStatus[] = [
  'PENDING',
  'RUNNING',
  'SUCCESS',
  'REVERTING',
  'REVERTED',
  'FAILURE',
  'SUSPENDED',
];

/** Statuses a run does not leave by itself. */
export const FINISHED_STATUSES: readonly RunStatus[] = ['SUCCESS', 'REVERTED', 'FAILURE'];

export function isFinished(status: RunStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

export interface RunTransition extends Move<RunStatus> {
  why: string;
}

/** How a run's status may change, each with its reason. */
export const RUN_TRANSITIONS: readonly RunTransition[] = [
  { from: 'PENDING', to: 'RUNNING', why: 'the run was created and its first tasks start' },
  { from: 'RUNNING', to: 'SUCCESS', why: 'every task succeeded or was ignored' },
  { from: 'RUNNING', to: 'REVERTING', why: 'a failure no retry controller retries, a cancel, or a rollback' },
  { from: 'RUNNING', to: 'SUSPENDED', why: 'suspended, and the tasks that were running have finished' },
  { from: 'REVERTING', to: 'REVERTED', why: 'every task that ran was reverted' },
  { from: 'REVERTING', to: 'FAILURE', why: 'a revert threw: what it depends on is left as it is' },
  { from: 'REVERTING', to: 'SUSPENDED', why: 'suspended while reverting, once the reverts in flight ended' },
  { from: 'REVERTING', to: 'RUNNING', why: 'a retry scope was reverted and runs again' },
  { from: 'SUSPENDED', to: 'RUNNING', why: 'resumed (engine.resume or a conductor)' },
  { from: 'SUSPENDED', to: 'REVERTING', why: 'resumed while reverting, cancelled, or rolled back' },
  { from: 'SUCCESS', to: 'REVERTING', why: 'an operator rolls a finished run back (engine.revert)' },
  { from: 'FAILURE', to: 'REVERTING', why: 'an operator rolls the run back again after fixing a revert' },
];

/**
 * What the run's scheduler is doing: running forward, reverting a retry scope to run it again, or
 * reverting the whole run.
 */
export type RunPhase = 'run' | 'retry' | 'revert';

export interface PhaseTransition extends Move<RunPhase> {
  why: string;
}

export const PHASE_TRANSITIONS: readonly PhaseTransition[] = [
  { from: 'run', to: 'retry', why: "a task failed and its scope's retry controller decided to retry" },
  { from: 'retry', to: 'run', why: 'the retry scope is reverted: it runs again' },
  { from: 'run', to: 'revert', why: 'a failure that reverts all, a cancel, or an operator rollback' },
  { from: 'retry', to: 'revert', why: 'a revert failed in the scope, or a failure elsewhere reverts all' },
];

const allowedStatus = allowedMoves(RUN_TRANSITIONS);
const allowedPhase = allowedMoves(PHASE_TRANSITIONS);

/** Whether the table allows a run to move from one status to another (staying is always allowed). */
export function isAllowedRunTransition(from: RunStatus, to: RunStatus): boolean {
  return from === to || allowedStatus(from, to);
}

/** Whether the table allows the scheduler to move from one phase to another (staying is allowed). */
export function isAllowedPhaseTransition(from: RunPhase, to: RunPhase): boolean {
  return from === to || allowedPhase(from, to);
}

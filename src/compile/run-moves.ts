import {
  isAllowedPhaseTransition,
  isAllowedRunTransition,
  type RunPhase,
  type RunStatus,
} from '../model/run-status.js';

/**
 * The only ways the scheduler changes a run's status or phase: each move is checked against
 * RUN_TRANSITIONS / PHASE_TRANSITIONS, so a move the tables do not list is a bug that surfaces at once.
 */
export function moveStatus(draft: { status: RunStatus }, to: RunStatus): void {
  if (!isAllowedRunTransition(draft.status, to)) {
    throw new Error(
      `taskweave bug: a run moved ${draft.status} → ${to}, which RUN_TRANSITIONS does not allow`,
    );
  }
  draft.status = to;
}

export function movePhase(draft: { phase: RunPhase }, to: RunPhase): void {
  if (!isAllowedPhaseTransition(draft.phase, to)) {
    throw new Error(
      `taskweave bug: a run's phase moved ${draft.phase} → ${to}, which PHASE_TRANSITIONS does not allow`,
    );
  }
  draft.phase = to;
}

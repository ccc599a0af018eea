import { describe, expect, it } from 'vitest';
import { movePhase, moveStatus } from '../../src/compile/run-moves.js';
import { PHASE_TRANSITIONS, RUN_STATUSES, RUN_TRANSITIONS, TASK_TRANSITIONS } from '../../src/index.js';

describe('run status and phase tables', () => {
  it('give a reason for every move and name only known statuses', () => {
    for (const t of [...RUN_TRANSITIONS, ...PHASE_TRANSITIONS, ...TASK_TRANSITIONS]) {
      expect(t.why.length, `${t.from} → ${t.to}`).toBeGreaterThan(10);
    }
    for (const t of RUN_TRANSITIONS) expect(RUN_STATUSES).toContain(t.to);
  });

  it('are enforced: a move they do not list is refused, naming the table', () => {
    expect(() => moveStatus({ status: 'REVERTED' }, 'RUNNING')).toThrow(
      'a run moved REVERTED → RUNNING, which RUN_TRANSITIONS does not allow',
    );
    expect(() => moveStatus({ status: 'SUCCESS' }, 'FAILURE')).toThrow(/RUN_TRANSITIONS/);
    expect(() => movePhase({ phase: 'revert' }, 'run')).toThrow(
      "a run's phase moved revert → run, which PHASE_TRANSITIONS does not allow",
    );
    const draft = { status: 'FAILURE' as const };
    moveStatus(draft, 'REVERTING');
    expect(draft.status).toBe('REVERTING');
  });
});

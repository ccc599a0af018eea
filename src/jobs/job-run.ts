import type { Engine } from '../engine/engine.js';
import type { FlowRun } from '../engine/flow-run.js';
import { RunExistsError, RunNotFoundError } from '../errors.js';
import { isFinished } from '../store/store.js';
import { OrphanRevertedError } from './conductor-errors.js';
import type { OrphanPolicy } from './conductor-options.js';
import type { Claim, Job } from './job-board.js';

/**
 * How a conductor gets a claimed job's run (run id = job id) going and what it resolves: the run's
 * results, or the error it ended with.
 *
 * - A fresh claim starts the run. If the store holds it already (a conductor died right after
 *   creating it, or released it), the stored run is resumed, unless it was REVERTED: then an earlier
 *   attempt failed (or was cancelled) and was rolled back, and this attempt starts from scratch.
 * - A takeover resumes the stored run (or, with `onOrphan: 'revert'`, rolls it back and fails the job
 *   with `OrphanRevertedError`); a run that was never stored is started.
 *
 * `attach` is called with every FlowRun the job gets, so the conductor can cancel or abort it.
 */
export async function runJob(
  engine: Engine,
  claim: Claim,
  onOrphan: OrphanPolicy,
  attach: (run: FlowRun<Record<string, unknown>>) => void,
): Promise<Record<string, unknown>> {
  const { job } = claim;
  if (claim.takeover) {
    try {
      if (onOrphan === 'revert') return await revertOrphan(engine, job.id, attach);
      return await resumeRun(engine, job.id, attach);
    } catch (error) {
      // The previous owner died before it stored the run: nothing ran yet.
      if (!(error instanceof RunNotFoundError)) throw error;
    }
  }
  return startRun(engine, job, attach, true);
}

async function startRun(
  engine: Engine,
  job: Job,
  attach: (run: FlowRun<Record<string, unknown>>) => void,
  mayRestart: boolean,
): Promise<Record<string, unknown>> {
  const run = engine.start<Record<string, unknown>>(job.flow, job.inputs, { id: job.id });
  attach(run);
  try {
    return await run.result;
  } catch (error) {
    if (!(error instanceof RunExistsError)) throw error;
  }
  const stored = await engine.store.load(job.id);
  if (!stored) return startRun(engine, job, attach, false); // deleted meanwhile (retention)
  if (stored.meta.status === 'REVERTED' && mayRestart) {
    // A new attempt of a job whose last run failed and was rolled back: same run id, a fresh run.
    await engine.store.delete(job.id);
    return startRun(engine, job, attach, false);
  }
  return resumeRun(engine, job.id, attach);
}

async function resumeRun(
  engine: Engine,
  id: string,
  attach: (run: FlowRun<Record<string, unknown>>) => void,
): Promise<Record<string, unknown>> {
  const run = await engine.resume<Record<string, unknown>>(id);
  attach(run);
  return run.result;
}

async function revertOrphan(
  engine: Engine,
  id: string,
  attach: (run: FlowRun<Record<string, unknown>>) => void,
): Promise<Record<string, unknown>> {
  const stored = await engine.store.load(id);
  if (!stored) throw new RunNotFoundError(id);
  // A run that already ended keeps its outcome: there is nothing left to decide for it.
  if (isFinished(stored.meta.status)) return resumeRun(engine, id, attach);
  await engine.revert(id);
  throw new OrphanRevertedError(id);
}

import type { Engine } from '../../engine/engine.js';
import type { Explanation } from '../../engine/explain.js';
import { RunNotFoundError } from '../../errors.js';
import { explainJob, type JobExplanation } from '../../jobs/explain-job.js';
import type { JobBoard } from '../../jobs/job-board.js';
import { CommandFailedError } from '../cli-errors.js';

/** `runs explain`: the run's explanation, plus the job (lease holder, expiry) when a board has one. */
export async function explainWithJob(
  engine: Engine,
  board: JobBoard,
  id: string,
  now: number,
): Promise<Partial<Explanation> & { runId: string; text: string; job?: JobExplanation }> {
  const job = await board.get(id).catch(() => undefined);
  const jobPart = job ? explainJob(job, now) : undefined;
  let explained: Explanation | undefined;
  try {
    explained = await engine.explain(id);
  } catch (error) {
    if (!(error instanceof RunNotFoundError)) throw error;
    if (!jobPart) {
      throw new CommandFailedError(
        `No run or job \`${id}\` here. Check the id, --redis and --prefix (taskweave runs ls).`,
      );
    }
  }
  if (!explained) {
    return {
      runId: id,
      waitingOn: [],
      text: `${jobPart!.text}\nIts run has not been stored yet.`,
      job: jobPart!,
    };
  }
  return {
    ...explained,
    ...(jobPart ? { job: jobPart } : {}),
    text: jobPart ? `${explained.text}\n${jobPart.text}` : explained.text,
  };
}

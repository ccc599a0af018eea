import { LeaseLostError } from '../errors.js';
import { JobLostError } from './conductor-errors.js';
import type { ConductorReporter } from './conductor-events.js';
import type { HeldJob } from './held-job.js';
import { type Claim, type ClaimOptions, type Job, type JobBoard, JobBoardClosedError } from './job-board.js';
import { type JobAction, jobAction, type RunOutcome } from './job-outcome.js';
import { asError } from './lease-keeper.js';

export interface SettleContext {
  board: JobBoard;
  report: ConductorReporter;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  /** Is the lease still being kept (not refused, not overdue)? */
  holds(held: HeldJob): boolean;
  /** Claim the next job with the completion, in the same round trip, when the board can. */
  next?: { owner: string; leaseMs: number; options?: ClaimOptions };
}

/** The job claimed with a completion, and when that call was sent (its lease counts from then). */
export interface NextClaim {
  claim: Claim;
  sentAt: number;
}

/**
 * Tell the board how a held job's run ended: complete, fail (counting an attempt), release, or drop
 * it when our token is stale. A board call that fails is retried with backoff while the lease may
 * still be ours; after that the claim is left to expire (the run is stored either way, so whoever
 * takes the job over finds its outcome).
 */
export async function settleJob(
  ctx: SettleContext,
  held: HeldJob,
  outcome: RunOutcome,
): Promise<NextClaim | undefined> {
  const { board, report, maxAttempts } = ctx;
  const { id, token, stopped } = held;
  if (stopped?.reason === 'refused') return undefined; // someone else holds the job; 'lost' was reported
  if (stopped?.reason === 'cancelled') {
    report.emit('cancelled', { id, token, state: 'CANCELLED' });
    return undefined;
  }
  // A run we aborted is released whatever error it ended with; one that finished anyway still reports
  // its outcome (fenced by the token).
  const aborted = stopped?.reason === 'overdue' || stopped?.reason === 'stop';
  const action: JobAction =
    aborted && !('results' in outcome) ? { kind: 'release', reason: stopped.reason } : jobAction(outcome);
  if (action.kind === 'drop') {
    report.emit('lost', { id, token, reason: 'fenced', error: action.error });
    return undefined;
  }
  let next: NextClaim | undefined;
  let firstCall = true;
  const call = () => {
    if (action.kind === 'complete') {
      // Only the first attempt claims: a retry after a lost reply must not claim a second job.
      if (firstCall && ctx.next && board.completeAndClaim) {
        firstCall = false;
        const sentAt = performance.now();
        return board.completeAndClaim(id, token, action.results, ctx.next).then((claim) => {
          if (claim) next = { claim, sentAt };
          return 'COMPLETE' as const;
        });
      }
      return board.complete(id, token, action.results).then(() => 'COMPLETE' as const);
    }
    if (action.kind === 'fail')
      return board.fail(id, token, action.error, { maxAttempts, retry: action.retry });
    return board.release(id, token).then(() => 'UNCLAIMED' as const);
  };
  let state: Job['state'] | undefined;
  try {
    state = await retried(ctx, held, action.kind, call);
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    // Refused as stale. A write whose reply was lost (Redis went away) may have been applied and then
    // replayed by the client on reconnection: the job then shows our token in the state we asked for.
    const read = await readRefused(board, id);
    const job = read?.job;
    const expected =
      action.kind === 'complete'
        ? ['COMPLETE']
        : action.kind === 'fail'
          ? ['FAILED', 'UNCLAIMED']
          : ['UNCLAIMED'];
    const applied = job?.token === token && expected.includes(job.state);
    if (!applied) {
      const lost = vanished(read) ? new JobLostError(id) : error;
      if (!stopped) report.emit('lost', { id, token, reason: 'fenced', error: lost });
      return undefined;
    }
    state = job.state;
  }
  if (state === undefined) return undefined;
  if (action.kind === 'complete') report.emit('completed', { id, token, results: action.results });
  else if (action.kind === 'fail') {
    report.emit('failed', {
      id,
      token,
      error: action.error,
      state: state === 'FAILED' ? 'FAILED' : 'UNCLAIMED',
    });
  } else report.emit('released', { id, token, reason: action.reason });
  return next;
}

/** Undefined when the board could not be reached while the lease lasted (or was closed). */
async function retried<T>(
  ctx: SettleContext,
  held: HeldJob,
  during: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  let delay = ctx.backoffMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      if (error instanceof JobBoardClosedError) return undefined;
      if (performance.now() + delay >= held.deadline || !ctx.holds(held)) {
        if (!held.stopped) {
          ctx.report.emit('lost', {
            id: held.id,
            token: held.token,
            reason: 'unreachable',
            error: asError(error),
          });
        }
        return undefined;
      }
      ctx.report.emit('backoff', { error: asError(error), delayMs: delay, during });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, ctx.maxBackoffMs);
    }
  }
}

/**
 * The job as the board has it after one of our calls was refused: `{ job }`, with `job` undefined when
 * the board answered without it; undefined when the board could not be read at all.
 */
export function readRefused(board: JobBoard, id: string): Promise<{ job: Job | undefined } | undefined> {
  return board.get(id).then(
    (job) => ({ job }),
    () => undefined,
  );
}

/** The board answered without the job: it vanished (Redis lost it, or it was deleted), nobody took it over. */
export function vanished(read: { job: Job | undefined } | undefined): boolean {
  return read !== undefined && read.job === undefined;
}

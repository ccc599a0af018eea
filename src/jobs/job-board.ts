import { InvalidOptionError, TaskweaveError } from '../errors.js';
import type { FailureRecord } from '../model/failure-record.js';
import { registerErrors } from '../model/failure-record.js';

/**
 * A job board holds requests to run a flow ("jobs") that conductors claim with a lease, run or resume,
 * and finish. Every change that involves a claim is fenced: a claim hands out a token that increases
 * on every claim of that job, and `complete` / `fail` / `release` are refused with `LeaseLostError`
 * when the token is no longer the current one.
 */

/** Where a job is in its life. */
export type JobState = 'UNCLAIMED' | 'CLAIMED' | 'COMPLETE' | 'FAILED' | 'CANCELLED';

export const JOB_STATES: readonly JobState[] = ['UNCLAIMED', 'CLAIMED', 'COMPLETE', 'FAILED', 'CANCELLED'];

/** States a job does not leave by itself (only `retry()` moves FAILED and CANCELLED jobs on). */
export const FINAL_JOB_STATES: readonly JobState[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

/** The allowed transitions, as data, each with its reason (the Lua scripts implement exactly these). */
export const JOB_TRANSITIONS: readonly { from: JobState; to: JobState; by: string; reason: string }[] = [
  { from: 'UNCLAIMED', to: 'CLAIMED', by: 'claim', reason: 'a conductor took the best waiting job' },
  { from: 'CLAIMED', to: 'CLAIMED', by: 'claim', reason: 'the lease expired: a takeover, with a new token' },
  {
    from: 'CLAIMED',
    to: 'FAILED',
    by: 'claim',
    reason: 'the lease expired once more than maxTakeovers allows',
  },
  { from: 'CLAIMED', to: 'COMPLETE', by: 'complete', reason: 'the run succeeded' },
  { from: 'CLAIMED', to: 'UNCLAIMED', by: 'fail', reason: 'the run failed and attempts remain' },
  { from: 'CLAIMED', to: 'FAILED', by: 'fail', reason: 'the run failed for good or used its last attempt' },
  { from: 'CLAIMED', to: 'UNCLAIMED', by: 'release', reason: 'the conductor stopped without draining' },
  { from: 'UNCLAIMED', to: 'CANCELLED', by: 'cancel', reason: 'an operator cancelled it before it ran' },
  {
    from: 'CLAIMED',
    to: 'CANCELLED',
    by: 'cancel',
    reason: 'an operator cancelled it; its conductor sees it on renew',
  },
  { from: 'FAILED', to: 'UNCLAIMED', by: 'retry', reason: 'an operator asked for another go' },
  { from: 'CANCELLED', to: 'UNCLAIMED', by: 'retry', reason: 'an operator asked for another go' },
];

export interface Job {
  id: string;
  /** Flow name, as registered with engines. */
  flow: string;
  inputs: Record<string, unknown>;
  state: JobState;
  /** Higher first; FIFO within a priority. */
  priority: number;
  /** The conductor holding (or that last held) the claim. */
  owner?: string;
  /** Runs that ended in failure (`fail`); reset by `retry()`. */
  attempts: number;
  /** Claims taken after an expired lease; reset by `retry()`. */
  takeovers: number;
  /** Fencing token of the latest claim; 0 before the first claim. */
  token: number;
  /** Epoch ms (Redis server clock) when the current claim expires, while CLAIMED. */
  leaseUntil?: number;
  /** Why the job failed (or the last failure, when it was put back for another attempt). */
  error?: FailureRecord;
  /** The run's results, once COMPLETE. */
  results?: Record<string, unknown>;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  /** The run this job drives: always the job id. */
  runId: string;
}

export interface PostJob {
  flow: string;
  /** @default {} */
  inputs?: Record<string, unknown>;
  /** Posting an id that exists returns it and changes nothing. @default a random UUID */
  id?: string;
  /** Higher is claimed first. @default 0 */
  priority?: number;
}

export interface ListJobsOptions {
  state?: JobState | readonly JobState[];
  /** @default 100 */
  limit?: number;
}

export interface ClaimOptions {
  /** A job whose lease expired after this many takeovers is marked FAILED instead. @default 20 */
  maxTakeovers?: number;
}

export interface Claim {
  job: Job;
  /** Pass to renew / complete / fail / release. */
  token: number;
  /** True when the job was taken from a conductor whose lease expired: resume its run, do not start it. */
  takeover: boolean;
}

export interface FailOptions {
  /** False for failures no retry can fix (e.g. a corrupt snapshot). @default true */
  retry?: boolean;
  /** Runs that may end in failure before the job is FAILED. @default 5 */
  maxAttempts?: number;
}

export interface WaitJobOptions {
  /** Reject with `JobWaitTimeoutError` after this long. @default no limit */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type JobCounts = Record<JobState, number>;

export interface JobBoard {
  /** Post a job; resolves its id. Idempotent by id. */
  post(job: PostJob): Promise<string>;
  /** Undefined when there is no such job; `JobCorruptError` for data that is not a job. */
  get(id: string): Promise<Job | undefined>;
  /** Jobs, newest first; corrupt entries are skipped. */
  list(options?: ListJobsOptions): Promise<Job[]>;
  /** Take the best waiting job, or one whose lease expired (a takeover). Undefined when there is none. */
  claim(owner: string, leaseMs: number, options?: ClaimOptions): Promise<Claim | undefined>;
  /**
   * Resolve once work may be there (a job posted, released or put back, or a lease expiring): true;
   * false on timeout or abort. Resolves at once (true) when a job is claimable now. Spurious wakes
   * happen: claim until `claim()` returns undefined, then wait again.
   */
  waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Extend a lease. False when the claim is lost: another token, another owner, or no longer CLAIMED. */
  renew(id: string, owner: string, token: number, leaseMs: number): Promise<boolean>;
  /** CLAIMED → COMPLETE with results. `LeaseLostError` (nothing changed) for a stale token. */
  complete(id: string, token: number, results?: Record<string, unknown>): Promise<void>;
  /**
   * `complete`, then `claim(owner, leaseMs, options)` in the same round trip: what a conductor does when
   * a job ends and its slot is free again. Resolves the next claim, or undefined when nothing is
   * claimable. `LeaseLostError` (nothing changed, nothing claimed) for a stale token. Optional: without
   * it a conductor calls `complete` and then `claim`.
   */
  completeAndClaim?(
    id: string,
    token: number,
    results: Record<string, unknown>,
    next: { owner: string; leaseMs: number; options?: ClaimOptions },
  ): Promise<Claim | undefined>;
  /**
   * Count an attempt; back to UNCLAIMED when `retry` and attempts remain, else FAILED with `error`.
   * Resolves the new state. `LeaseLostError` (nothing changed) for a stale token.
   */
  fail(id: string, token: number, error: unknown, options?: FailOptions): Promise<'UNCLAIMED' | 'FAILED'>;
  /** Give a claim back at once without counting an attempt. `LeaseLostError` for a stale token. */
  release(id: string, token: number): Promise<void>;
  /** UNCLAIMED / CLAIMED → CANCELLED: true; false when already final. `JobNotFoundError` if absent. */
  cancel(id: string): Promise<boolean>;
  /** FAILED / CANCELLED → UNCLAIMED with attempts and takeovers reset: true; false otherwise. */
  retry(id: string): Promise<boolean>;
  /** Resolve with the job once it is COMPLETE, FAILED or CANCELLED. */
  wait(id: string, options?: WaitJobOptions): Promise<Job>;
  counts(): Promise<JobCounts>;
  /** Idempotent; closes only what the board opened itself. */
  close(): Promise<void>;
}

/** What is stored under a job's key is not a taskweave job; only that job is affected. */
export class JobCorruptError extends TaskweaveError {
  constructor(
    readonly jobId: string,
    readonly detail: string,
  ) {
    super(`Stored job \`${jobId}\` is corrupt or not taskweave's: ${detail}. Other jobs are unaffected.`);
  }
}

export class JobNotFoundError extends TaskweaveError {
  constructor(readonly jobId: string) {
    super(
      `Expected a job with id \`${jobId}\` on this board, got none. Post it first, or check the board's prefix.`,
    );
  }
}

export class JobWaitTimeoutError extends TaskweaveError {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    readonly state?: JobState,
  ) {
    super(
      `Job \`${jobId}\` did not finish within ${timeoutMs} ms${state ? ` (it is ${state})` : ''}; it was left as it is.`,
    );
  }
}

export class JobBoardClosedError extends TaskweaveError {
  constructor(readonly operation: string) {
    super(`Expected an open job board for \`${operation}\`, got one that was closed.`);
  }
}

/** A job board or conductor option had the wrong type or range (an InvalidOptionError). */
export class InvalidJobOptionError extends InvalidOptionError {
  constructor(option: string, expected: string, got: unknown) {
    super(option, expected, got, `\`${String(got)}\` (${typeof got})`);
  }
}

/** Throw `InvalidJobOptionError` unless `value` is a non-empty string. */
export function expectString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '')
    throw new InvalidJobOptionError(name, 'a non-empty string', value);
}

/** Throw `InvalidJobOptionError` unless `value` is a finite number from `from` up. */
export function expectCount(name: string, value: unknown, from: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < from) {
    throw new InvalidJobOptionError(name, `a number from ${from} and up`, value);
  }
}

registerErrors({
  JobCorruptError,
  JobNotFoundError,
  JobWaitTimeoutError,
  JobBoardClosedError,
  InvalidJobOptionError,
});

import { LeaseLostError } from '../errors.js';
import { parse } from '../model/codec.js';
import type { FailureRecord } from '../model/failure-record.js';
import { JOB_STATES, type Job, JobCorruptError, JobNotFoundError, type JobState } from './job-board.js';

/**
 * Where a board keeps its data, and how a stored job hash turns back into a `Job`.
 *
 * Every key of a board shares one hash tag, `{<prefix>:jobs}`: the job hashes too, not only the queue.
 * A claim has to pick the best job from the queue *and* change that job's record in one atomic script,
 * and a Redis Cluster runs a script only over keys of one slot. The trade-off: all of a board's jobs
 * live on one shard. That is fine for a job board (a few small writes per job, and a job's run, which
 * carries the heavy traffic, is spread over the cluster by the run store's per-run tags); run more
 * boards with other prefixes to spread jobs over more shards.
 */
/** The board's key names, made in src/redis/keys.ts with every other key taskweave uses. */
export { type JobKeys, jobKeys } from '../redis/keys.js';

/** Marker written in every job hash; data without it is not ours. */
export const JOB_FORMAT = 'taskweave.job/1';

/** A stored job hash (as HGETALL gives it) → `Job`; `JobCorruptError` when it is not a taskweave job. */
export function decodeJob(id: string, raw: Record<string, string>): Job {
  const corrupt = (detail: string) => new JobCorruptError(id, detail);
  if (raw.fmt !== JOB_FORMAT) throw corrupt('no taskweave job marker');
  if (raw.id !== id) throw corrupt(`it names another id (\`${String(raw.id).slice(0, 60)}\`)`);
  const state = raw.state as JobState;
  if (!JOB_STATES.includes(state)) throw corrupt(`unknown state \`${String(raw.state).slice(0, 40)}\``);
  if (typeof raw.flow !== 'string' || raw.flow === '') throw corrupt('no flow name');
  const number = (field: string): number => {
    const value = Number(raw[field]);
    if (raw[field] === undefined || raw[field] === '' || !Number.isFinite(value)) {
      throw corrupt(`\`${field}\` is not a number`);
    }
    return value;
  };
  const job: Job = {
    id,
    flow: raw.flow,
    inputs: decodeObject(raw.inputs, 'inputs', corrupt),
    state,
    priority: number('priority'),
    attempts: number('attempts'),
    takeovers: number('takeovers'),
    token: number('token'),
    createdAt: number('createdAt'),
    updatedAt: number('updatedAt'),
    runId: id,
  };
  if (raw.owner !== undefined) job.owner = raw.owner;
  if (raw.leaseUntil !== undefined) job.leaseUntil = number('leaseUntil');
  if (raw.results !== undefined) job.results = decodeObject(raw.results, 'results', corrupt);
  if (raw.error !== undefined) job.error = decodeFailure(raw.error, corrupt);
  return job;
}

function decodeObject(
  text: string | undefined,
  field: string,
  corrupt: (detail: string) => JobCorruptError,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = text === undefined ? undefined : parse(text);
  } catch (error) {
    throw corrupt(`\`${field}\` is not readable (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw corrupt(`\`${field}\` is not an object`);
  return value as Record<string, unknown>;
}

function decodeFailure(text: string, corrupt: (detail: string) => JobCorruptError): FailureRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('`error` is not JSON');
  }
  if (!isFailureRecord(value)) throw corrupt('`error` is not a failure record');
  return value;
}

export function isFailureRecord(value: unknown): value is FailureRecord {
  if (value === null || typeof value !== 'object' || value instanceof Error) return false;
  const record = value as Record<string, unknown>;
  return typeof record.name === 'string' && typeof record.message === 'string';
}

/** A flat [field, value, ...] reply → object. */
export function pairs(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** The reply of a fenced script: returned when OK, else the matching error (nothing was changed). */
export function fenced(id: string, token: number, reply: unknown): unknown[] {
  const [code, detail] = reply as [string, unknown, unknown];
  if (code === 'OK') return reply as unknown[];
  if (code === 'CORRUPT') throw new JobCorruptError(id, String(detail));
  const current = Number(detail);
  throw new LeaseLostError(id, token, current >= 0 ? current : undefined);
}

/** The reply of cancel / retry: true when applied, false when the job's state did not allow it. */
export function operatorReply(id: string, reply: unknown): boolean {
  const [code, detail] = reply as [string, unknown];
  if (code === 'OK') return true;
  if (code === 'NONE') throw new JobNotFoundError(id);
  if (code === 'CORRUPT') throw new JobCorruptError(id, String(detail));
  return false;
}

export function isWrongType(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

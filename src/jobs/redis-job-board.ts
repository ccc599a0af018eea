import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { LeaseLostError } from '../errors.js';
import { stringify } from '../model/codec.js';
import { type FailureRecord, toFailureRecord } from '../model/failure-record.js';
import { type CallSpec, createCaller, type RedisCaller, RedisReplyError } from '../redis/call.js';
import { closeClient, isRedisTarget, openClient, type RedisClient } from '../redis/client.js';
import { runScript } from '../redis/run-script.js';
import {
  type Claim,
  type ClaimOptions,
  expectCount,
  expectString,
  type FailOptions,
  FINAL_JOB_STATES,
  InvalidJobOptionError,
  JOB_STATES,
  type Job,
  type JobBoard,
  JobBoardClosedError,
  JobCorruptError,
  type JobCounts,
  type JobState,
  type ListJobsOptions,
  type PostJob,
  type WaitJobOptions,
} from './job-board.js';
import { addJob } from './lua/addJob-4.lua.js';
import { cancelJob } from './lua/cancelJob-3.lua.js';
import { claimJob } from './lua/claimJob-3.lua.js';
import { completeJob } from './lua/completeJob-4.lua.js';
import { failJob } from './lua/failJob-5.lua.js';
import { peekWork } from './lua/peekWork-2.lua.js';
import { purgeJobs } from './lua/purgeJobs-1.lua.js';
import { releaseJob } from './lua/releaseJob-4.lua.js';
import { renewLease } from './lua/renewLease-2.lua.js';
import { retryJob } from './lua/retryJob-4.lua.js';
import { RedisJobListeners } from './redis-job-listeners.js';
import {
  decodeJob,
  fenced,
  isFailureRecord,
  isWrongType,
  type JobKeys,
  jobKeys,
  operatorReply,
  pairs,
} from './redis-job-record.js';

export interface RedisJobBoardOptions {
  /** A Redis URL (the board opens a client and closes it in `close()`), or an ioredis `Redis` or `Cluster` (left open). */
  redis: string | Redis | Cluster;
  /** Key prefix: every key of the board lives under the hash tag `{<prefix>:jobs}`. @default 'tw' */
  prefix?: string;
  /**
   * How long a board operation may wait for an unavailable Redis (down, unreachable, not answering)
   * before it rejects with `StoreUnavailableError` (its `cause` is the client's error).
   * @default 30_000
   */
  unavailableDeadlineMs?: number;
}

export interface PurgeJobsOptions {
  /** Delete jobs finished (last changed, Redis server clock) more than this long ago. */
  olderThanMs: number;
  /** Which final states to purge. @default FINAL_JOB_STATES (COMPLETE, FAILED, CANCELLED) */
  state?: JobState | readonly JobState[];
}

/**
 * A job board in Redis: claims, renewals and endings are single Lua scripts that check the fencing
 * token inside, leases run on the Redis server's clock, and waiting blocks on dedicated connections
 * (BLPOP for work, pub/sub for finished jobs) instead of polling.
 *
 * @example
 * const board = redisJobBoard({ redis: 'redis://127.0.0.1:6379', prefix: 'tw' });
 * const id = await board.post({ flow: 'boot-server', inputs: { network: 'net-1' }, id: 'req-42' });
 * const claim = await board.claim('conductor-1', 10_000);
 * if (claim) await board.complete(claim.job.id, claim.token, { ip: '10.0.0.7' });
 * await board.wait(id); // { state: 'COMPLETE', results: { ip: '10.0.0.7' }, ... }
 * await board.close();
 */
export function redisJobBoard(options: RedisJobBoardOptions): RedisJobBoard {
  return new RedisBoard(options);
}

/** The Redis board: a `JobBoard`, plus retention. */
export interface RedisJobBoard extends JobBoard {
  /**
   * Retention: delete finished jobs (COMPLETE, FAILED, CANCELLED, or `state`) last changed more than
   * `olderThanMs` ago; resolves the number deleted. Jobs in other states are never touched.
   */
  purge(options: PurgeJobsOptions): Promise<number>;
}

class RedisBoard implements RedisJobBoard {
  private readonly redis: RedisClient;
  private readonly ownsClient: boolean;
  private readonly caller: RedisCaller;
  private readonly keys: JobKeys;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly listeners: RedisJobListeners;

  constructor(options: RedisJobBoardOptions) {
    const { redis, prefix = 'tw', unavailableDeadlineMs = 30_000 } = options ?? ({} as RedisJobBoardOptions);
    if (!isRedisTarget(redis)) {
      throw new InvalidJobOptionError('redis', 'a Redis URL, an ioredis Redis or an ioredis Cluster', redis);
    }
    if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
      throw new InvalidJobOptionError('prefix', 'a non-empty string without `{` or `}`', prefix);
    }
    expectCount('unavailableDeadlineMs', unavailableDeadlineMs, 1);
    const opened = openClient(redis);
    this.redis = opened.client;
    this.ownsClient = opened.owned;
    this.caller = createCaller(opened, unavailableDeadlineMs, (what) => new JobBoardClosedError(what));
    this.keys = jobKeys(prefix);
    this.listeners = new RedisJobListeners(this.redis, this.keys.wake, this.keys.done, (spec, command) =>
      this.caller.call(spec, command),
    );
  }

  /** Every command goes through the shared retry policy: bounded by the deadline, errors typed. */
  private call<T>(
    what: string,
    subject: string | undefined,
    write: boolean,
    command: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    const spec: CallSpec = { what, write, ...(subject === undefined ? {} : { subject }) };
    return this.caller.call(spec, command);
  }

  private script(
    what: string,
    subject: string | undefined,
    write: boolean,
    script: Parameters<typeof runScript>[1],
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    return this.call(what, subject, write, (client) => runScript(client, script, keys, args));
  }

  async post(job: PostJob): Promise<string> {
    this.assertOpen('post');
    const { flow, inputs = {}, id = randomUUID(), priority = 0 } = job ?? ({} as PostJob);
    expectString('flow', flow);
    expectString('id', id);
    if (typeof priority !== 'number' || !Number.isFinite(priority)) {
      throw new InvalidJobOptionError('priority', 'a finite number', priority);
    }
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      throw new InvalidJobOptionError('inputs', 'an object of named inputs', inputs);
    }
    const { keys } = this;
    await this.script(
      'post job',
      id,
      true,
      addJob,
      [keys.job(id), keys.ready, keys.wake, keys.seq],
      [keys.statePrefix, id, flow, stringify(inputs), String(priority)],
    );
    return id;
  }

  async get(id: string): Promise<Job | undefined> {
    this.assertOpen('get');
    expectString('id', id);
    let raw: Record<string, string>;
    try {
      raw = await this.call('read job', id, false, (client) => client.hgetall(this.keys.job(id)));
    } catch (error) {
      if (isWrongType(error)) throw new JobCorruptError(id, 'the key does not hold a hash');
      throw error;
    }
    return Object.keys(raw).length === 0 ? undefined : decodeJob(id, raw);
  }

  async list(options: ListJobsOptions = {}): Promise<Job[]> {
    this.assertOpen('list');
    const { state, limit = 100 } = options;
    expectCount('limit', limit, 1);
    const states = state === undefined ? JOB_STATES : typeof state === 'string' ? [state] : state;
    for (const s of states) {
      if (!JOB_STATES.includes(s))
        throw new InvalidJobOptionError('state', `one of ${JOB_STATES.join(', ')}`, s);
    }
    const indexReplies = await this.call('list jobs', undefined, false, (client) => {
      const indexes = client.pipeline();
      for (const s of states) indexes.zrevrange(this.keys.statePrefix + s, 0, limit - 1, 'WITHSCORES');
      return indexes.exec();
    });
    const entries: { id: string; n: number }[] = [];
    for (const [error, reply] of indexReplies ?? []) {
      // A state index holding another type: the board's keys are not (only) ours.
      if (error) throw new RedisReplyError(error.message, 'list jobs', error);
      const flat = reply as string[];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ id: flat[i]!, n: Number(flat[i + 1]) });
    }
    const ids = entries
      .sort((a, b) => b.n - a.n)
      .slice(0, limit)
      .map((e) => e.id);
    const replies =
      (await this.call('list jobs', undefined, false, (client) => {
        const reads = client.pipeline();
        for (const id of ids) reads.hgetall(this.keys.job(id));
        return reads.exec();
      })) ?? [];
    const jobs: Job[] = [];
    ids.forEach((id, i) => {
      const [error, raw] = replies[i] ?? [];
      if (error || !raw || Object.keys(raw).length === 0) return; // not a hash, or gone since
      try {
        jobs.push(decodeJob(id, raw as Record<string, string>));
      } catch (decodeError) {
        if (!(decodeError instanceof JobCorruptError)) throw decodeError;
      }
    });
    return jobs;
  }

  async claim(owner: string, leaseMs: number, options: ClaimOptions = {}): Promise<Claim | undefined> {
    this.assertOpen('claim');
    const request = claimRequest(owner, leaseMs, options);
    const { keys } = this;
    const reply = (await this.script(
      'claim a job',
      undefined,
      true,
      claimJob,
      [keys.ready, keys.leases, keys.wake],
      [keys.statePrefix, keys.jobPrefix, request.owner, request.leaseMs, request.maxTakeovers, keys.done],
    )) as ClaimReply | null;
    return this.claimed(reply, request, options);
  }

  /** A claim reply decoded; a claimed job that is corrupt is failed for good and the next one claimed. */
  private async claimed(
    reply: ClaimReply | null,
    request: ClaimRequest,
    options: ClaimOptions,
  ): Promise<Claim | undefined> {
    if (!reply) return undefined;
    const [id, token, takeover, flat] = reply;
    try {
      return { job: decodeJob(id, pairs(flat)), token, takeover: takeover === 1 };
    } catch (error) {
      if (!(error instanceof JobCorruptError)) throw error;
      // We hold this claim: fail the job for good with the reason, so no one gets it again, and go on.
      await this.fail(id, token, error, { retry: false }).catch((failError: unknown) => {
        if (!(failError instanceof LeaseLostError || failError instanceof JobCorruptError)) throw failError;
      });
      return this.claim(request.owner, request.leaseMs, options);
    }
  }

  async waitForWork(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.assertOpen('waitForWork');
    expectCount('timeoutMs', timeoutMs, 0);
    if (signal?.aborted) return false;
    let next: number;
    try {
      // The look is interruptible too: a conductor stopping while Redis is away does not wait for it.
      next = Number(
        await this.caller.call(
          { what: 'look for work', write: false, ...(signal ? { signal } : {}) },
          (client) => runScript(client, peekWork, [this.keys.ready, this.keys.leases], []),
        ),
      );
    } catch (error) {
      if (signal?.aborted || this.closed) return false;
      throw error;
    }
    if (next === 0) return true;
    if (signal?.aborted || this.closed) return false;
    // Block no longer than until the first lease expires (+ a little: claim reads the clock again).
    const untilExpiry = next > 0 ? next + 5 : Number.POSITIVE_INFINITY;
    const blockMs = Math.min(timeoutMs, untilExpiry);
    if (blockMs <= 0) return false;
    const woken = await this.listeners.block(blockMs, signal);
    return woken || (blockMs === untilExpiry && !signal?.aborted && !this.closed);
  }

  async renew(id: string, owner: string, token: number, leaseMs: number): Promise<boolean> {
    this.assertOpen('renew');
    expectString('id', id);
    expectString('owner', owner);
    expectCount('token', token, 1);
    expectCount('leaseMs', leaseMs, 1);
    const reply = await this.script(
      'renew lease of job',
      id,
      true,
      renewLease,
      [this.keys.job(id), this.keys.leases],
      [id, owner, token, Math.ceil(leaseMs)],
    );
    return reply === 1;
  }

  async complete(id: string, token: number, results: Record<string, unknown> = {}): Promise<void> {
    this.assertOpen('complete');
    await this.completeJob(id, token, results, undefined);
  }

  async completeAndClaim(
    id: string,
    token: number,
    results: Record<string, unknown>,
    next: { owner: string; leaseMs: number; options?: ClaimOptions },
  ): Promise<Claim | undefined> {
    this.assertOpen('completeAndClaim');
    const options = next.options ?? {};
    const request = claimRequest(next.owner, next.leaseMs, options);
    const reply = await this.completeJob(id, token, results, request);
    return this.claimed(reply.length > 1 ? (reply.slice(1) as ClaimReply) : null, request, options);
  }

  private async completeJob(
    id: string,
    token: number,
    results: Record<string, unknown>,
    next: ClaimRequest | undefined,
  ): Promise<unknown[]> {
    expectString('id', id);
    expectCount('token', token, 1);
    const { keys } = this;
    const reply = await this.script(
      'complete job',
      id,
      true,
      completeJob,
      [keys.job(id), keys.leases, keys.ready, keys.wake],
      [
        keys.statePrefix,
        id,
        token,
        stringify(results),
        keys.done,
        keys.jobPrefix,
        next?.owner ?? '',
        next?.leaseMs ?? 0,
        next?.maxTakeovers ?? 0,
      ],
    );
    fenced(id, token, reply);
    return reply as unknown[];
  }

  async fail(
    id: string,
    token: number,
    error: unknown,
    options: FailOptions = {},
  ): Promise<'UNCLAIMED' | 'FAILED'> {
    this.assertOpen('fail');
    expectString('id', id);
    expectCount('token', token, 1);
    const { retry = true, maxAttempts = 5 } = options;
    expectCount('maxAttempts', maxAttempts, 1);
    const record: FailureRecord = isFailureRecord(error) ? error : toFailureRecord(error);
    const { keys } = this;
    const reply = await this.script(
      'fail job',
      id,
      true,
      failJob,
      [keys.job(id), keys.leases, keys.ready, keys.wake, keys.seq],
      [keys.statePrefix, id, token, JSON.stringify(record), retry ? '1' : '0', maxAttempts, keys.done],
    );
    return fenced(id, token, reply)[1] as 'UNCLAIMED' | 'FAILED';
  }

  async release(id: string, token: number): Promise<void> {
    this.assertOpen('release');
    expectString('id', id);
    expectCount('token', token, 1);
    const { keys } = this;
    const reply = await this.script(
      'release job',
      id,
      true,
      releaseJob,
      [keys.job(id), keys.leases, keys.ready, keys.wake],
      [keys.statePrefix, id, token],
    );
    fenced(id, token, reply);
  }

  async cancel(id: string): Promise<boolean> {
    this.assertOpen('cancel');
    expectString('id', id);
    const { keys } = this;
    const reply = await this.script(
      'cancel job',
      id,
      true,
      cancelJob,
      [keys.job(id), keys.leases, keys.ready],
      [keys.statePrefix, id, keys.done],
    );
    return operatorReply(id, reply);
  }

  async retry(id: string): Promise<boolean> {
    this.assertOpen('retry');
    expectString('id', id);
    const { keys } = this;
    const reply = await this.script(
      'retry job',
      id,
      true,
      retryJob,
      [keys.job(id), keys.ready, keys.wake, keys.seq],
      [keys.statePrefix, id],
    );
    return operatorReply(id, reply);
  }

  async wait(id: string, options: WaitJobOptions = {}): Promise<Job> {
    this.assertOpen('wait');
    expectString('id', id);
    const { timeoutMs, signal } = options;
    if (timeoutMs !== undefined) expectCount('timeoutMs', timeoutMs, 0);
    signal?.throwIfAborted();
    return this.listeners.untilFinished(id, () => this.get(id), timeoutMs, signal);
  }

  async counts(): Promise<JobCounts> {
    this.assertOpen('counts');
    const replies = await this.call('count jobs', undefined, false, (client) =>
      client.multi(JOB_STATES.map((s) => ['zcard', this.keys.statePrefix + s])).exec(),
    );
    const counts = {} as JobCounts;
    JOB_STATES.forEach((s, i) => {
      const [error, count] = replies?.[i] ?? [];
      if (error) throw new RedisReplyError(error.message, 'count jobs', error);
      counts[s] = Number(count ?? 0);
    });
    return counts;
  }

  async purge(options: PurgeJobsOptions): Promise<number> {
    this.assertOpen('purge');
    const { olderThanMs, state = FINAL_JOB_STATES } = options ?? ({} as PurgeJobsOptions);
    expectCount('olderThanMs', olderThanMs, 0);
    const states = typeof state === 'string' ? [state] : state;
    for (const s of states) {
      if (!FINAL_JOB_STATES.includes(s)) {
        throw new InvalidJobOptionError('state', `one of ${FINAL_JOB_STATES.join(', ')} (finished jobs)`, s);
      }
    }
    const page = 200;
    let deleted = 0;
    for (const s of new Set(states)) {
      // Entries kept (newer, or not a job of ours) stay in the index: the next page starts after them.
      let offset = 0;
      for (;;) {
        const [gone, kept, scanned] = (await this.script(
          'purge jobs',
          undefined,
          true,
          purgeJobs,
          [this.keys.statePrefix + s],
          [this.keys.jobPrefix, s, Math.floor(olderThanMs), offset, page],
        )) as [number, number, number];
        deleted += gone;
        offset += kept;
        if (scanned < page) break;
      }
    }
    return deleted;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.caller.close();
    this.listeners.close();
    if (this.ownsClient) await closeClient(this.redis);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new JobBoardClosedError(operation);
  }
}

type ClaimReply = [id: string, token: number, takeover: number, flat: string[]];

interface ClaimRequest {
  owner: string;
  leaseMs: number;
  maxTakeovers: number;
}

function claimRequest(owner: string, leaseMs: number, options: ClaimOptions): ClaimRequest {
  expectString('owner', owner);
  expectCount('leaseMs', leaseMs, 1);
  const { maxTakeovers = 20 } = options;
  expectCount('maxTakeovers', maxTakeovers, 0);
  return { owner, leaseMs: Math.ceil(leaseMs), maxTakeovers };
}

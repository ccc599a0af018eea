import { InvalidOptionError, SnapshotCorruptError, TaskweaveError } from '../errors.js';
import { type CallSpec, createCaller } from '../redis/call.js';
import { closeClient, isRedisTarget, openClient, type RedisClient } from '../redis/client.js';
import { claimRun } from './lua/claimRun-2.lua.js';
import { createRun } from './lua/createRun-10.lua.js';
import { deleteRun } from './lua/deleteRun-10.lua.js';
import { loadRun } from './lua/loadRun-2.lua.js';
import { pruneIndex } from './lua/pruneIndex-1.lua.js';
import { readHistory } from './lua/readHistory-3.lua.js';
import { saveRun } from './lua/saveRun-10.lua.js';

export { isRedisClient, isRedisTarget, type RedisClient } from '../redis/client.js';

/**
 * The store's hold on Redis: the client (its own, opened from a URL, or the caller's), the scripts
 * defined on it, and `call()`, which turns outages into `StoreUnavailableError` after a deadline
 * (the policy in src/redis/call.ts).
 */

const SCRIPTS = [createRun, claimRun, loadRun, saveRun, deleteRun, pruneIndex, readHistory];
export type ScriptName = (typeof SCRIPTS)[number]['name'];

/** Prefixed so defining them on a caller's client cannot clash with the caller's own commands. */
const commandName = (name: ScriptName) => `taskweave_${name}`;

/** How a store call is made: is it a write, a shorter deadline, what to advise when Redis stays away. */
export type CallOptions = Pick<CallSpec, 'write' | 'deadlineMs' | 'advice'>;

export interface RedisConnection {
  readonly client: RedisClient;
  /** Where the client points, for messages. */
  readonly where: string;
  /** Run a script on `keys` (those of one run, with the status indexes on a single Redis; or one index key). */
  script(name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Run `command` against Redis, retrying connection failures and transient replies with backoff;
   * reject with `StoreUnavailableError` once `unavailableDeadlineMs` (or `options.deadlineMs`) has
   * passed. `WRONGTYPE` replies become `SnapshotCorruptError` for `runId`. A call is a write unless
   * `options.write` is false (only a write can be "maybe stored").
   */
  call<T>(
    what: string,
    runId: string | undefined,
    command: (client: RedisClient) => Promise<T>,
    /** Stop retrying and waiting once aborted (rejects with its reason); a command sent may still land. */
    signal?: AbortSignal,
    options?: Partial<CallOptions>,
  ): Promise<T>;
  close(): Promise<void>;
}

export function openRedis(redis: string | RedisClient, deadlineMs: number): RedisConnection {
  const opened = openClient(redis);
  const { client, owned } = opened;
  // No fixed numberOfKeys: createRun and saveRun take the status index keys too, on a single Redis only.
  for (const script of SCRIPTS) client.defineCommand(commandName(script.name), { lua: script.lua });
  const caller = createCaller(
    opened,
    deadlineMs,
    (what) =>
      new TaskweaveError(`Expected an open store, got one that was closed (while trying to ${what}).`),
  );
  let closed = false;

  return {
    client,
    where: opened.where,
    call(what, runId, command, signal, options = {}) {
      return caller.call(
        {
          what,
          ...(runId === undefined ? {} : { subject: runId }),
          write: options.write ?? true,
          ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
          ...(options.advice ? { advice: options.advice } : {}),
          ...(signal ? { signal } : {}),
          reply: (message) =>
            runId !== undefined && message.startsWith('WRONGTYPE')
              ? new SnapshotCorruptError(runId, 'a key of the run holds the wrong Redis type')
              : undefined,
        },
        command,
      );
    },
    script(name, keys, args) {
      const run = (client as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[
        commandName(name)
      ];
      if (!run)
        throw new TaskweaveError(`Expected script ${name} to be defined on the Redis client, got none.`);
      return run.call(client, String(keys.length), ...keys, ...args);
    },
    async close() {
      if (closed) return;
      closed = true;
      caller.close();
      if (owned) await closeClient(client);
    },
  };
}

/** The options every Redis-backed store takes. */
export interface RedisStoreLikeOptions {
  redis: string | RedisClient;
  prefix?: string;
  unavailableDeadlineMs?: number;
}

/** Validate a Redis-backed store's options, with messages that say what was expected and what was got. */
export function validateRedisOptions<T extends RedisStoreLikeOptions>(
  options: T,
): Required<RedisStoreLikeOptions> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'an object', options);
  }
  const { redis, prefix = 'tw', unavailableDeadlineMs = 30_000 } = options;
  if (!isRedisTarget(redis)) {
    throw new InvalidOptionError(
      'redis',
      'a redis:// or rediss:// URL or an ioredis Redis or Cluster client',
      redis,
    );
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new InvalidOptionError('prefix', 'a non-empty string without { or }', prefix);
  }
  if (
    typeof unavailableDeadlineMs !== 'number' ||
    !Number.isFinite(unavailableDeadlineMs) ||
    unavailableDeadlineMs < 1
  ) {
    throw new InvalidOptionError('unavailableDeadlineMs', 'a number from 1 and up', unavailableDeadlineMs);
  }
  return { redis, prefix, unavailableDeadlineMs };
}

/** Ids (run or resource) are non-empty strings. */
export function checkId(what: string, id: unknown): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidOptionError(what, 'a non-empty string', id);
  }
}

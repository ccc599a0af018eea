import { Cluster, Redis } from 'ioredis';
import { SnapshotCorruptError, StoreUnavailableError, TaskweaveError } from '../errors.js';
import { claimRun } from './lua/claimRun-2.lua.js';
import { createRun } from './lua/createRun-10.lua.js';
import { deleteRun } from './lua/deleteRun-10.lua.js';
import { loadRun } from './lua/loadRun-2.lua.js';
import { pruneIndex } from './lua/pruneIndex-1.lua.js';
import { readHistory } from './lua/readHistory-3.lua.js';
import { saveRun } from './lua/saveRun-10.lua.js';

/**
 * The store's hold on Redis: the client (its own, opened from a URL, or the caller's), the scripts
 * defined on it, and `call()`, which turns outages into `StoreUnavailableError` after a deadline.
 */

export type RedisClient = Redis | Cluster;

const SCRIPTS = [createRun, claimRun, loadRun, saveRun, deleteRun, pruneIndex, readHistory];
export type ScriptName = (typeof SCRIPTS)[number]['name'];

/** Prefixed so defining them on a caller's client cannot clash with the caller's own commands. */
const commandName = (name: ScriptName) => `taskweave_${name}`;

/** Replies that mean "not now", not "no": retried until the deadline. */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY )/;

export interface RedisConnection {
  readonly client: RedisClient;
  /** Run a script on `keys` (those of one run, with the status indexes on a single Redis; or one index key). */
  script(name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Run `command` against Redis, retrying connection failures and transient replies with backoff;
   * reject with `StoreUnavailableError` once `unavailableDeadlineMs` has passed. `WRONGTYPE` replies
   * become `SnapshotCorruptError` for `runId`.
   */
  call<T>(
    what: string,
    runId: string | undefined,
    command: (client: RedisClient) => Promise<T>,
    /** Stop retrying and waiting once aborted (rejects with its reason); a command sent may still land. */
    signal?: AbortSignal,
  ): Promise<T>;
  close(): Promise<void>;
}

export function openRedis(redis: string | RedisClient, deadlineMs: number): RedisConnection {
  const owned = typeof redis === 'string';
  const client: RedisClient = owned
    ? new Redis(redis, {
        // Commands wait for the reconnection; `call()` alone decides when to give up. A command queued
        // while Redis is down may still be sent on reconnection after its caller gave up ("maybe stored").
        maxRetriesPerRequest: null,
        // Measured: auto-pipelining added ~100 µs per write one run at a time and gained nothing with 200 in flight.
        enableAutoPipelining: false,
        retryStrategy: (times) => Math.min(50 * times, 1000),
      })
    : redis;
  // An owned client's errors surface through the commands; without a listener ioredis logs each one.
  if (owned) client.on('error', () => {});
  // No fixed numberOfKeys: createRun and saveRun take the status index keys too, on a single Redis only.
  for (const script of SCRIPTS) client.defineCommand(commandName(script.name), { lua: script.lua });
  let closed = false;

  const call = async <T>(
    what: string,
    runId: string | undefined,
    command: (c: RedisClient) => Promise<T>,
    signal?: AbortSignal,
  ) => {
    if (closed)
      throw new TaskweaveError(`Expected an open store, got one that was closed (while trying to ${what}).`);
    const deadline = Date.now() + deadlineMs;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) throw unavailable(what, runId, deadlineMs, lastError ?? client.status);
      try {
        return await withinDeadline(command(client), left, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error === DEADLINE) throw unavailable(what, runId, deadlineMs, lastError ?? client.status);
        if (isReply(error)) {
          const message = String((error as Error).message);
          if (runId !== undefined && message.startsWith('WRONGTYPE')) {
            throw new SnapshotCorruptError(runId, 'a key of the run holds the wrong Redis type');
          }
          if (!TRANSIENT_REPLY.test(message)) throw error;
        }
        lastError = error;
        // A client someone closed will not come back: waiting for the deadline would only delay.
        if (client.status === 'end' || closed) {
          throw new StoreUnavailableError(
            `Redis client was closed by its owner (${what}${runId === undefined ? '' : ` of run \`${runId}\``}): ${(error as Error).message}`,
            { cause: error },
          );
        }
        await sleep(Math.min(25 * 2 ** attempt, 500, Math.max(0, deadline - Date.now())), signal);
      }
    }
  };

  return {
    client,
    call,
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
      if (!owned) return;
      if (client.status === 'ready') {
        await client.quit().catch(() => client.disconnect());
      } else {
        client.disconnect();
      }
    },
  };
}

/** Is this a Redis error reply (as opposed to a connection failure)? */
function isReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/** `cause` is the last error seen, or the client's status when commands just waited. */
function unavailable(what: string, runId: string | undefined, deadlineMs: number, cause: unknown) {
  const reason = cause instanceof Error ? `: ${cause.message}` : ` (the client is ${String(cause)})`;
  return new StoreUnavailableError(
    `Redis did not answer (${what}${runId === undefined ? '' : ` of run \`${runId}\``}) within unavailableDeadlineMs of ${deadlineMs} ms${reason}. A write may or may not have been applied; retrying the same write is safe.`,
    cause instanceof Error ? { cause } : {},
  );
}

const DEADLINE = Symbol('deadline');

function withinDeadline<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  // The command may still settle after we gave up: keep its rejection from going unhandled.
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), ms);
    if (signal) {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

/** Wait `ms`; an abort ends the wait early (the caller then sees the signal aborted). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Duck-typed so two copies of ioredis in one app still work. */
export function isRedisClient(value: unknown): value is RedisClient {
  if (value instanceof Redis || value instanceof Cluster) return true;
  const candidate = value as { defineCommand?: unknown; status?: unknown } | null;
  return typeof candidate?.defineCommand === 'function' && typeof candidate.status === 'string';
}

/** A redis:// or rediss:// URL, or an ioredis Redis or Cluster: what every Redis-backed part takes. */
export function isRedisTarget(value: unknown): value is string | RedisClient {
  return typeof value === 'string' ? /^rediss?:\/\/./.test(value) : isRedisClient(value);
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
    throw new TypeError(`Expected \`options\` to be an object, got \`${options}\` (${typeof options})`);
  }
  const { redis, prefix = 'tw', unavailableDeadlineMs = 30_000 } = options;
  if (!isRedisTarget(redis)) {
    throw new TypeError(
      `Expected \`redis\` to be a redis:// or rediss:// URL or an ioredis Redis or Cluster client, got \`${String(redis)}\` (${typeof redis})`,
    );
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new TypeError(
      `Expected \`prefix\` to be a non-empty string without { or }, got \`${String(prefix)}\` (${typeof prefix})`,
    );
  }
  if (
    typeof unavailableDeadlineMs !== 'number' ||
    !Number.isFinite(unavailableDeadlineMs) ||
    unavailableDeadlineMs < 1
  ) {
    throw new TypeError(
      `Expected \`unavailableDeadlineMs\` to be a number from 1 and up, got \`${unavailableDeadlineMs}\` (${typeof unavailableDeadlineMs})`,
    );
  }
  return { redis, prefix, unavailableDeadlineMs };
}

/** Ids (run or resource) are non-empty strings. */
export function checkId(what: string, id: unknown): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new TypeError(
      `Expected \`${what}\` to be a non-empty string, got \`${String(id)}\` (${typeof id})`,
    );
  }
}

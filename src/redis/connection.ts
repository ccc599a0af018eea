import { SnapshotCorruptError, TaskweaveError } from '../errors.js';
import { type CallSpec, createCaller } from './call.js';
import { closeClient, openClient, type RedisClient } from './client.js';
import { type LuaScript, runScript } from './run-script.js';

export type { LuaScript } from './run-script.js';

/**
 * A room's hold on Redis: the client (its own, opened from a URL, or the caller's), its Lua scripts
 * (run by run-script.ts, nothing defined on the client), and `call()`, which turns outages into
 * `StoreUnavailableError` after a deadline (the policy in call.ts). The run store and the lifecycle
 * store each open one with their own scripts and their own reading of replies.
 */

/** How a call is made: is it a write, a shorter deadline, what to advise when Redis stays away. */
export type CallOptions = Pick<CallSpec, 'write' | 'deadlineMs' | 'advice'>;

export interface RedisConnection<Name extends string = string> {
  readonly client: RedisClient;
  /** Where the client points, for messages. */
  readonly where: string;
  /** Run one of the connection's scripts on `keys`. */
  script(name: Name, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Run `command` against Redis, retrying connection failures and transient replies with backoff;
   * reject with `StoreUnavailableError` once the deadline (or `options.deadlineMs`) has passed. A call
   * is a write unless `options.write` is false (only a write can be "maybe stored").
   */
  call<T>(
    what: string,
    subject: string | undefined,
    command: (client: RedisClient) => Promise<T>,
    /** Stop retrying and waiting once aborted (rejects with its reason); a command sent may still land. */
    signal?: AbortSignal,
    options?: Partial<CallOptions>,
  ): Promise<T>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  /** The error for a call made after `close()`. */
  closedError: (what: string) => Error;
  /** Turn an error reply about `subject` into the owner's own error (e.g. WRONGTYPE: not our data). */
  reply?: (message: string, subject: string | undefined) => Error | undefined;
}

/**
 * What a store of `things` (runs, resources) makes of Redis: a call after close is refused, and a
 * WRONGTYPE reply means the subject's key holds data that is not taskweave's (SnapshotCorruptError).
 */
export function storeConnection(things: 'run' | 'resource'): ConnectionOptions {
  return {
    closedError: (what) =>
      new TaskweaveError(`Expected an open store, got one that was closed (while trying to ${what}).`),
    reply: (message, subject) =>
      subject !== undefined && message.startsWith('WRONGTYPE')
        ? new SnapshotCorruptError(subject, `a key of the ${things} holds the wrong Redis type`)
        : undefined,
  };
}

export function openConnection<Name extends string>(
  redis: string | RedisClient,
  deadlineMs: number,
  scripts: readonly LuaScript<Name>[],
  options: ConnectionOptions,
): RedisConnection<Name> {
  const opened = openClient(redis);
  const { client, owned } = opened;
  const byName = new Map<string, LuaScript<Name>>(scripts.map((script) => [script.name, script]));
  const caller = createCaller(opened, deadlineMs, options.closedError);
  let closed = false;

  return {
    client,
    where: opened.where,
    call(what, subject, command, signal, callOptions = {}) {
      const reply = options.reply;
      return caller.call(
        {
          what,
          ...(subject === undefined ? {} : { subject }),
          write: callOptions.write ?? true,
          ...(callOptions.deadlineMs === undefined ? {} : { deadlineMs: callOptions.deadlineMs }),
          ...(callOptions.advice ? { advice: callOptions.advice } : {}),
          ...(signal ? { signal } : {}),
          ...(reply ? { reply: (message: string) => reply(message, subject) } : {}),
        },
        command,
      );
    },
    script(name, keys, args) {
      const script = byName.get(name);
      if (!script) {
        return Promise.reject(
          new TaskweaveError(`Expected script ${name} to be one of this connection's, got none.`),
        );
      }
      return runScript(client, script, keys, args);
    },
    async close() {
      if (closed) return;
      closed = true;
      caller.close();
      if (owned) await closeClient(client);
    },
  };
}

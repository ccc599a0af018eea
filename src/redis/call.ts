import { RedisAuthError, RedisReplyError, StoreUnavailableError, TaskweaveError } from '../errors.js';

export { RedisReplyError } from '../errors.js';

import type { OpenedClient, RedisClient } from './client.js';

/**
 * The one retry policy for an unavailable Redis, shared by the run store, the job board and the
 * lifecycle store. A command is sent only once the client is connected (so a command for a Redis that
 * was never reached is never sent later: nothing stored), retried on connection failures and on
 * transient replies with backoff, and given up at the deadline with a `StoreUnavailableError` that
 * names what failed, the client's error as `cause`, and whether a write may have landed.
 */

export interface CallSpec {
  /** What is being done, for messages: `'create run'`, `'post job'`. */
  what: string;
  /** The run or job it concerns, for messages. */
  subject?: string;
  /** Does the command change data? Only a write can be "maybe stored". */
  write: boolean;
  /** A shorter deadline than the connection's (an engine's `unavailableDeadlineMs`). */
  deadlineMs?: number;
  /** Stop retrying and waiting once aborted (rejects with its reason). A command sent may still land. */
  signal?: AbortSignal;
  /** What the caller should do, ending the unavailable error's message. */
  advice?: (maybeStored: boolean) => string;
  /** Turn a reply the command's owner understands (WRONGTYPE: not our data) into its own error. */
  reply?: (message: string) => Error | undefined;
}

export interface RedisCaller {
  call<T>(spec: CallSpec, command: (client: RedisClient) => Promise<T>): Promise<T>;
  /** Calls after this reject at once; waits in progress end (a closed client never comes back). */
  close(): void;
}

/** Replies that mean "not now", not "no": retried until the deadline. */
const TRANSIENT_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY )/;
/** Replies that waiting will not change: wrong or missing credentials, or an ACL that forbids the command. */
const AUTH_REPLY = /^(NOAUTH|WRONGPASS|NOPERM)/;

export function createCaller(
  { client, owned, where }: OpenedClient,
  deadlineMs: number,
  /** The error for a call made (or still waiting) after `close()`. */
  closedError: (what: string) => Error = (what) =>
    new TaskweaveError(`Expected an open connection, got one that was closed (while trying to ${what}).`),
): RedisCaller {
  let closed = false;
  // Calls in flight hear it through one listener (see `onAbort`), however many there are.
  const closing = new AbortController();
  // The latest connection error, for the message when commands merely waited. On a caller's client it is
  // heard only while one of our calls waits (a permanent listener would silence ioredis' own logging).
  let lastError: Error | undefined;
  if (owned) client.on('error', (error: Error) => (lastError = error));

  const call = async <T>(spec: CallSpec, command: (c: RedisClient) => Promise<T>): Promise<T> => {
    const { what, subject, signal } = spec;
    const where_ = `${what}${subject === undefined ? '' : ` \`${subject}\``}`;
    if (closed) throw closedError(where_);
    const limit = Math.min(deadlineMs, spec.deadlineMs ?? Number.POSITIVE_INFINITY);
    const deadline = Date.now() + limit;
    const stop = new Stop(signal, closing.signal);
    let seen: Error | undefined;
    // A write handed to the client whose outcome we never learned: it may land later.
    let unknownOutcome = false;
    const giveUp = (hung: boolean) => {
      const cause =
        seen ??
        lastError ??
        new Error(
          hung
            ? `no reply within ${limit} ms: Redis accepted the connection but did not answer`
            : `the client is ${client.status}`,
        );
      const maybeStored = spec.write && unknownOutcome;
      return new StoreUnavailableError(
        `Redis at ${where} ${hung ? 'did not answer' : 'could not be reached'} (${where_}) within ${limit} ms (unavailableDeadlineMs): ${cause.message}. ${
          spec.write
            ? maybeStored
              ? 'The write was sent and may still be applied (maybe stored). '
              : 'Nothing was written. '
            : ''
        }${spec.advice?.(maybeStored) ?? `Check that Redis is running and reachable at ${where}, then try again (or raise unavailableDeadlineMs).`}`,
        { cause, maybeStored, waitedMs: limit },
      );
    };
    try {
      return await attempts();
    } finally {
      stop.dispose();
    }
    async function attempts(): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        if (stop.aborted) throw abortReason(stop, closedError, where_);
        const left = deadline - Date.now();
        if (left <= 0) throw giveUp(false);
        if (client.status !== 'ready' && client.status !== 'wait') {
          if (client.status === 'end') {
            throw new StoreUnavailableError(
              `Redis client for ${where} was closed by its owner (${where_})${seen ? `: ${seen.message}` : ''}. Nothing was sent.`,
              seen ? { cause: seen } : {},
            );
          }
          const waited = await untilReady(client, left, stop.signal);
          if (waited.error) seen = waited.error;
          if (waited.error && AUTH_REPLY.test(waited.error.message)) {
            throw authError(where, where_, waited.error);
          }
          if (!waited.ready) continue;
        }
        const sent = command(client);
        if (spec.write) unknownOutcome = true;
        try {
          const result = await withinDeadline(sent, deadline - Date.now(), stop);
          return result;
        } catch (error) {
          if (stop.aborted) {
            throw abortReason(stop, closedError, where_);
          }
          if (error === DEADLINE) {
            throw giveUp(true);
          }
          if (isReply(error)) {
            // Redis answered: the command was not applied (a script refuses before it writes).
            const message = String((error as Error).message);
            if (AUTH_REPLY.test(message)) {
              throw authError(where, where_, error as Error);
            }
            const own = spec.reply?.(message);
            if (own) {
              throw own;
            }
            if (!TRANSIENT_REPLY.test(message)) {
              throw new RedisReplyError(message, where_, error);
            }
          }
          seen = error as Error;
          await sleep(Math.min(25 * 2 ** attempt, 500, Math.max(0, deadline - Date.now())), stop.signal);
        }
      }
    }
  };

  return {
    call,
    close() {
      closed = true;
      closing.abort();
    },
  };
}

function authError(where: string, what: string, cause: Error): RedisAuthError {
  return new RedisAuthError(
    `Redis at ${where} refused ${what}: ${cause.message}. Check the user and password in the URL (redis://user:password@host:port) or the client's options, and the ACL of that user.`,
    { cause },
  );
}

/** Is this a Redis error reply (as opposed to a connection failure)? */
function isReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function abortReason(signal: Stop, closedError: (what: string) => Error, what: string): unknown {
  return signal.reason === CLOSED ? closedError(what) : signal.reason;
}

const DEADLINE = Symbol('deadline');
const CLOSED = Symbol('closed');

/**
 * Resolves when the client is ready, or with the last error seen when `ms` pass or `signal` aborts.
 * Every call waiting on one client shares one set of listeners on it: hundreds of writes waiting for a
 * reconnect would otherwise add hundreds (and Node warns past ten).
 */
function untilReady(
  client: RedisClient,
  ms: number,
  signal: AbortSignal,
): Promise<{ ready: boolean; error?: Error }> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    const waiter: ReadyWaiter = {
      finish(ready) {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        readyWaiters(client).remove(waiter);
        resolve(error ? { ready, error } : { ready });
      },
      error(e) {
        error = e;
        // Credentials will not get better by waiting: report at once.
        if (AUTH_REPLY.test(e.message)) waiter.finish(false);
      },
    };
    const onAbort = () => waiter.finish(false);
    const timer = setTimeout(() => waiter.finish(false), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    readyWaiters(client).add(waiter);
  });
}

interface ReadyWaiter {
  finish(ready: boolean): void;
  error(e: Error): void;
}

/** The calls waiting for one client to be ready, and the one set of listeners they share on it. */
const waitersByClient = new WeakMap<
  RedisClient,
  { add(w: ReadyWaiter): void; remove(w: ReadyWaiter): void }
>();

function readyWaiters(client: RedisClient) {
  let entry = waitersByClient.get(client);
  if (entry) return entry;
  const waiters = new Set<ReadyWaiter>();
  const onReady = () => {
    for (const w of [...waiters]) w.finish(true);
  };
  const onEnd = () => {
    for (const w of [...waiters]) w.finish(false);
  };
  const onError = (e: Error) => {
    for (const w of [...waiters]) w.error(e);
  };
  entry = {
    add(w) {
      if (waiters.size === 0) {
        client.on('ready', onReady);
        client.on('error', onError);
        client.on('end', onEnd);
      }
      waiters.add(w);
    },
    remove(w) {
      if (!waiters.delete(w) || waiters.size > 0) return;
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    },
  };
  waitersByClient.set(client, entry);
  return entry;
}

function withinDeadline<T>(promise: Promise<T>, ms: number, stop: Stop): Promise<T> {
  // No Promise.race and no AbortController per call: this is every Redis command's path.
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      stop.off(onAbort);
    };
    const timer = setTimeout(
      () => {
        if (done) return;
        finish();
        reject(DEADLINE);
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      if (done) return;
      finish();
      reject(stop.reason);
    };
    stop.on(onAbort);
    // The command may still settle after we gave up: its late rejection is ignored here.
    promise.then(
      (value) => {
        if (done) return;
        finish();
        resolve(value);
      },
      (error: unknown) => {
        if (done) return;
        finish();
        reject(error);
      },
    );
  });
}

/** Wait `ms`; an abort ends the wait early (the caller then sees the signal aborted). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The caller's signal and the connection's closing, seen as one, without an AbortController per call
 * (making one was among the hottest costs of a command): `signal` makes one only for the cold paths
 * (waiting for a connection, backing off). A class, so a call makes one object and no closures for it.
 */
class Stop {
  private combined: { controller: AbortController; onAbort: () => void } | undefined;

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly closing: AbortSignal,
  ) {}

  get aborted(): boolean {
    return this.closing.aborted || this.caller?.aborted === true;
  }

  get reason(): unknown {
    return this.closing.aborted ? CLOSED : this.caller?.reason;
  }

  get signal(): AbortSignal {
    if (!this.combined) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(this.reason);
      this.combined = { controller, onAbort };
      if (this.aborted) onAbort();
      else this.on(onAbort);
    }
    return this.combined.controller.signal;
  }

  /** Call `listener` once either aborts (it may be called twice, if both do). */
  on(listener: () => void): void {
    onAbort(this.closing, listener);
    if (this.caller) onAbort(this.caller, listener);
  }

  off(listener: () => void): void {
    offAbort(this.closing, listener);
    if (this.caller) offAbort(this.caller, listener);
  }

  dispose(): void {
    if (this.combined) this.off(this.combined.onAbort);
  }
}

/**
 * What to call when a signal aborts, by signal: one 'abort' listener per signal, added the first time
 * a call waits on it, and a set that each call joins and leaves. Adding and removing an EventTarget
 * listener per call (twice: the caller's signal and the connection's closing) was a measurable share
 * of every command's cost, and a writer's signal is waited on by every write of its run.
 */
const abortHandlers = new WeakMap<AbortSignal, Set<() => void>>();

function onAbort(signal: AbortSignal, listener: () => void): void {
  let handlers = abortHandlers.get(signal);
  if (!handlers) {
    const set = new Set<() => void>();
    handlers = set;
    abortHandlers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        const called = [...set];
        set.clear();
        for (const handler of called) handler();
      },
      { once: true },
    );
  }
  handlers.add(listener);
}

function offAbort(signal: AbortSignal, listener: () => void): void {
  abortHandlers.get(signal)?.delete(listener);
}

import { Redis } from 'ioredis';
import { createEngine, type Engine } from '../engine/engine.js';
import type { Flow } from '../flow/types.js';
import type { JobBoard } from '../jobs/job-board.js';
import { redisJobBoard } from '../jobs/redis-job-board.js';
import { redisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';
import { CommandFailedError } from './cli-errors.js';

export interface ConnectOptions {
  /** @default REDIS_URL, then redis://127.0.0.1:6379 */
  redis?: string;
  /** @default 'tw' */
  prefix?: string;
  /** How long to wait for Redis to answer at all before giving up with one clear line. */
  deadlineMs: number;
  /** The store's and engines' unavailableDeadlineMs once connected. @default deadlineMs */
  runDeadlineMs?: number;
}

/** One Redis client for the command, shared by its store, engine and board; closed by `close()`. */
export interface Connection {
  readonly url: string;
  readonly prefix: string;
  readonly client: Redis;
  readonly store: Store;
  board(): JobBoard;
  engine(flows?: readonly Flow[]): Engine;
  close(): Promise<void>;
}

export function redisUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Show a URL without its password. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connect and check that Redis answers within the deadline, so that a Redis that is down is one line
 * ("Redis at … did not answer within 5000 ms: connect ECONNREFUSED …") and exit code 1, not a hang.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const url = redisUrl(options.redis);
  const prefix = options.prefix ?? 'tw';
  if (!/^rediss?:\/\//.test(url)) {
    throw new CommandFailedError(`Expected --redis to be a redis:// or rediss:// URL, got \`${url}\`.`);
  }
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 500),
    // ioredis waits this long for a socket that never opened to close before destroying it, and the
    // process with it: a command that failed should exit at once.
    disconnectTimeout: 100,
  });
  client.on('error', (error: Error) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    // A refused connection is retried (Redis may be restarting) until the deadline.
    client.connect().catch(() => {});
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), options.deadlineMs);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    const reason = lastError?.message ?? (error as Error).message;
    throw new CommandFailedError(
      `Redis at ${safeUrl(url)} did not answer within ${options.deadlineMs} ms (${reason}). Start Redis, or pass --redis <url> (or set REDIS_URL).`,
      { cause: lastError ?? error },
    );
  } finally {
    clearTimeout(timer);
  }
  const runDeadlineMs = options.runDeadlineMs ?? options.deadlineMs;
  const store = redisStore({ redis: client, prefix, unavailableDeadlineMs: runDeadlineMs });
  let board: JobBoard | undefined;
  const engines: Engine[] = [];
  return {
    url,
    prefix,
    client,
    store,
    board: () => {
      board ??= redisJobBoard({ redis: client, prefix });
      return board;
    },
    engine: (flows = []) => {
      const engine = createEngine({ store, flows, unavailableDeadlineMs: runDeadlineMs });
      engines.push(engine);
      return engine;
    },
    async close() {
      for (const engine of engines) await engine.close();
      await board?.close();
      await store.close();
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

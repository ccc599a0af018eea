import { Cluster, Redis } from 'ioredis';

/**
 * The one way taskweave reaches Redis: from a URL (a client taskweave opens, configures and closes) or
 * from a caller's `Redis` / `Cluster` (used as it is, left open). The store, the job board and the
 * lifecycle store all open their clients here.
 */

export type RedisClient = Redis | Cluster;

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

/**
 * ioredis ends a socket on disconnect() and destroys it after `disconnectTimeout` (2 s by default) —
 * a timer it arms even when the socket is already gone (while reconnecting), which then keeps Node
 * alive for those 2 s after close(). Ours destroy it soon.
 */
const DISCONNECT_TIMEOUT_MS = 100;

export interface OpenedClient {
  client: RedisClient;
  /** Opened here from a URL: closed by `closeClient`. A caller's client is never closed by taskweave. */
  owned: boolean;
  /** Where it points, for messages (a URL without its password, `host:port`, or "a Redis Cluster"). */
  where: string;
}

export function openClient(target: string | RedisClient): OpenedClient {
  if (typeof target !== 'string') return { client: target, owned: false, where: describeClient(target) };
  const client = new Redis(target, {
    // Commands wait for the reconnection; the caller's deadline (see call.ts) alone decides when to give up.
    maxRetriesPerRequest: null,
    // Measured: auto-pipelining added ~100 µs per write one run at a time and gained nothing with 200 in flight.
    enableAutoPipelining: false,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
  // Its errors surface through the commands (with the deadline's message); without a listener ioredis
  // would print "[ioredis] Unhandled error event" for every reconnection attempt.
  client.on('error', () => {});
  return { client, owned: true, where: describeUrl(target) };
}

/**
 * Close a client taskweave opened: QUIT when connected (replies already on their way arrive), else
 * drop the socket and stop reconnecting. Either way no timer or socket of it is left to keep Node alive.
 */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    // QUIT waits for Redis; a Redis that stopped answering must not hold close() up.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1_000);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}

/** A dedicated connection to the same server (blocking commands, pub/sub), with the same error handling. */
export function duplicateClient(client: RedisClient): RedisClient {
  const connection = (client as Redis).duplicate({ disconnectTimeout: DISCONNECT_TIMEOUT_MS }) as RedisClient;
  // Errors of these connections surface through the commands waiting on them; ioredis reconnects by itself.
  connection.on('error', () => {});
  return connection;
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the Redis URL given';
  }
}

function describeClient(client: RedisClient): string {
  if ((client as { isCluster?: boolean }).isCluster) return 'the Redis Cluster';
  const options = (client as Redis).options ?? {};
  return options.path ? options.path : `${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`;
}

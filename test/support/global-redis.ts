import { type OwnedRedis, pingRedis, startRedis } from './redis-server.js';

/**
 * Vitest global setup: integration tests use the Redis at REDIS_URL (default 127.0.0.1:6379).
 * When nothing answers there, start a throwaway `redis-server` on that port so `npm test`
 * works on a fresh machine with Redis installed but not running.
 */
let owned: OwnedRedis | undefined;

export async function setup(): Promise<void> {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const port = Number(url.port || 6379);
  process.env.REDIS_URL = url.toString();
  if (await pingRedis(url.hostname, port)) return;
  owned = await startRedis([], port);
}

export async function teardown(): Promise<void> {
  await owned?.stop();
}

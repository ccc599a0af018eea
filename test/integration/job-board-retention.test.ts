import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { InvalidJobOptionError, type RedisJobBoard, redisJobBoard } from '../../src/index.js';
import { jobKeys } from '../../src/jobs/redis-job-record.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * Retention: board.purge({ olderThanMs, state? }) deletes finished jobs (their hashes and index
 * entries) last changed before the cutoff, and nothing else: waiting and claimed jobs, newer finished
 * ones, and states not asked for stay.
 */
let redis: Redis;
let prefix: string;
let board: RedisJobBoard;

beforeEach(() => {
  redis = newRedis();
  prefix = testPrefix('purge');
  board = redisJobBoard({ redis: REDIS_URL, prefix });
});

afterEach(async () => {
  await board.close();
  await cleanPrefix(redis, prefix);
  await redis.quit();
});

/** Post `id` and take it to `end` (COMPLETE, FAILED or CANCELLED); CLAIMED and UNCLAIMED stay so. */
async function jobIn(id: string, end: 'COMPLETE' | 'FAILED' | 'CANCELLED' | 'CLAIMED' | 'UNCLAIMED') {
  await board.post({ flow: 'f', id });
  if (end === 'UNCLAIMED') return;
  if (end === 'CANCELLED') return void (await board.cancel(id));
  const claim = await board.claim('me', 60_000);
  expect(claim?.job.id).toBe(id);
  if (end === 'COMPLETE') await board.complete(id, claim!.token, { ok: true });
  if (end === 'FAILED') await board.fail(id, claim!.token, new Error('no'), { retry: false });
}

it('deletes finished jobs older than the cutoff, by state, and leaves everything else', async () => {
  for (const [id, end] of [
    ['done', 'COMPLETE'],
    ['failed', 'FAILED'],
    ['cancelled', 'CANCELLED'],
    ['claimed', 'CLAIMED'],
    ['waiting', 'UNCLAIMED'],
  ] as const) {
    await jobIn(id, end);
  }
  // Nothing finished an hour ago yet.
  expect(await board.purge({ olderThanMs: 3_600_000 })).toBe(0);
  // Redis' clock decides; let it move past the jobs' last change.
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await board.purge({ olderThanMs: 5, state: 'FAILED' })).toBe(1);
  expect(await board.get('failed')).toBeUndefined();
  expect(await board.get('done')).toMatchObject({ state: 'COMPLETE' });
  expect(await board.purge({ olderThanMs: 5 })).toBe(2);
  for (const id of ['done', 'cancelled']) expect(await board.get(id)).toBeUndefined();
  expect(await board.get('claimed')).toMatchObject({ state: 'CLAIMED' });
  expect(await board.get('waiting')).toMatchObject({ state: 'UNCLAIMED' });
  expect(await board.counts()).toEqual({ UNCLAIMED: 1, CLAIMED: 1, COMPLETE: 0, FAILED: 0, CANCELLED: 0 });
  const keys = jobKeys(prefix);
  expect(await redis.exists(keys.job('done'), keys.job('failed'), keys.job('cancelled'))).toBe(0);
  await expect(board.purge({ olderThanMs: 0, state: 'CLAIMED' })).rejects.toBeInstanceOf(
    InvalidJobOptionError,
  );
  await expect(board.purge({ olderThanMs: -1 })).rejects.toBeInstanceOf(InvalidJobOptionError);
});

it('pages through a long index', async () => {
  for (let i = 0; i < 450; i++) await board.post({ flow: 'f', id: `j${i}` });
  for (let i = 0; i < 450; i++) await board.cancel(`j${i}`);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await board.purge({ olderThanMs: 5 })).toBe(450);
  expect((await board.counts()).CANCELLED).toBe(0);
});

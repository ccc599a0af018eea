import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type RedisJobBoard, RedisReplyError, redisJobBoard, TaskweaveError } from '../../src/index.js';
import { jobKeys } from '../../src/jobs/redis-job-record.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * A board prefix that holds someone else's data: what the board cannot read fails with a
 * TaskweaveError naming the reply and the operation (never a raw client error), and the rest works.
 */
let redis: Redis;
let prefix: string;
let board: RedisJobBoard;

beforeEach(() => {
  redis = newRedis();
  prefix = testPrefix('foreign');
  board = redisJobBoard({ redis: REDIS_URL, prefix, unavailableDeadlineMs: 2_000 });
});

afterEach(async () => {
  await board.close();
  await cleanPrefix(redis, prefix);
  await redis.quit();
});

it('a state index holding a string: list and counts fail with a typed error; posting still works', async () => {
  await redis.set(`${jobKeys(prefix).statePrefix}COMPLETE`, 'not an index');
  for (const operation of [() => board.list(), () => board.counts()]) {
    const error = await operation().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskweaveError);
    expect(error).toBeInstanceOf(RedisReplyError);
    expect((error as Error).message).toMatch(/^WRONGTYPE .*\(Redis refused (list|count) jobs\)$/);
  }
  await board.post({ flow: 'f', id: 'ok' });
  expect(await board.list({ state: 'UNCLAIMED' })).toMatchObject([{ id: 'ok' }]);
});

import { Cluster, type Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidJobOptionError, type JobBoard, JobCorruptError } from '../../src/jobs/job-board.js';
import { redisJobBoard } from '../../src/jobs/redis-job-board.js';
import { jobKeys } from '../../src/jobs/redis-job-record.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { type OwnedRedis, startOneNodeCluster, startRedis } from '../support/redis-server.js';
import { jobBoardContract } from './job-board-contract.js';

/**
 * Boards under one fresh prefix, each on its own client from `connect`; cleanup closes them, lets
 * `clean` remove the prefix's keys, and quits the clients.
 */
function boardsOn<C extends Redis | Cluster>(
  connect: () => C,
  clean?: (client: C, prefix: string) => Promise<void>,
) {
  const prefix = testPrefix('jobs');
  const clients: C[] = [];
  const boards: JobBoard[] = [];
  const open = (): JobBoard => {
    const client = connect();
    clients.push(client);
    const board = redisJobBoard({ redis: client, prefix });
    boards.push(board);
    return board;
  };
  return {
    board: open(),
    another: async () => open(),
    async cleanup() {
      await Promise.all(boards.map((b) => b.close()));
      await clean?.(clients[0]!, prefix);
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
}

jobBoardContract('Redis (client passed in)', async () => boardsOn(newRedis, cleanPrefix));

describe('one-node Redis Cluster', () => {
  let server: OwnedRedis;
  beforeAll(async () => {
    server = await startOneNodeCluster();
  });
  afterAll(async () => {
    await server?.stop();
  });

  jobBoardContract('Redis Cluster (keys must share one slot per script)', async () =>
    boardsOn(() => new Cluster([{ host: '127.0.0.1', port: server.port }])),
  );
});

describe('Redis job board', () => {
  let redis: Redis;
  let prefix: string;
  let board: JobBoard;
  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('jobs');
    board = redisJobBoard({ redis, prefix });
  });
  afterEach(async () => {
    await board.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('keeps every key under the board hash tag', async () => {
    const id = await board.post({ flow: 'f' });
    const claim = (await board.claim('c', 60_000))!;
    await board.complete(id, claim.token);
    await board.post({ flow: 'f' });
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `*${prefix}*`, count: 1000 })) keys.push(...batch);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) expect(key.startsWith(`{${prefix}:jobs}:`)).toBe(true);
  });

  it('keeps at most 64 wake tokens however many jobs wait, and none once nothing is claimable', async () => {
    const wake = jobKeys(prefix).wake;
    for (let i = 0; i < 70; i++) await board.post({ flow: 'f' });
    expect(await redis.llen(wake)).toBe(64);
    for (let i = 0; i < 69; i++) await board.claim('c', 60_000);
    expect(await redis.llen(wake)).toBe(64);
    // The last waiting job taken: its tokens stand for nothing.
    await board.claim('c', 60_000);
    expect(await redis.llen(wake)).toBe(0);
  });

  it('a job with corrupt data fails alone: get throws JobCorruptError, claim fails it and goes on', async () => {
    const bad = await board.post({ flow: 'f', id: 'bad' });
    const good = await board.post({ flow: 'f', id: 'good' });
    await redis.hset(jobKeys(prefix).job(bad), 'inputs', '{not json');
    await expect(board.get(bad)).rejects.toBeInstanceOf(JobCorruptError);
    const claim = await board.claim('c', 60_000);
    expect(claim?.job.id).toBe(good);
    expect(await redis.hget(jobKeys(prefix).job(bad), 'state')).toBe('FAILED');
    expect(JSON.parse((await redis.hget(jobKeys(prefix).job(bad), 'error'))!)).toMatchObject({
      name: 'JobCorruptError',
    });
    expect((await board.list()).map((j) => j.id)).toEqual([good]);
  });

  it('foreign data under a job key is left alone; other jobs keep working', async () => {
    await board.post({ flow: 'f', id: 'foreign' });
    await board.post({ flow: 'f', id: 'fine' });
    const key = jobKeys(prefix).job('foreign');
    await redis.del(key);
    await redis.set(key, 'somebody else');
    const corrupt = await board.get('foreign').catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(JobCorruptError);
    expect(corrupt).toMatchObject({ jobId: 'foreign' });
    await expect(board.cancel('foreign')).rejects.toBeInstanceOf(JobCorruptError);
    await expect(board.complete('foreign', 1)).rejects.toBeInstanceOf(JobCorruptError);
    expect(await board.post({ flow: 'f', id: 'foreign' })).toBe('foreign');
    expect((await board.claim('c', 60_000))?.job.id).toBe('fine');
    expect(await board.claim('c', 60_000)).toBeUndefined();
    expect(await redis.get(key)).toBe('somebody else');
    await redis.hset(jobKeys(prefix).job('hash-without-marker'), 'state', 'UNCLAIMED');
    await expect(board.get('hash-without-marker')).rejects.toBeInstanceOf(JobCorruptError);
  });

  it('closes a client it opened from a URL and leaves a passed-in client open', async () => {
    const owned = redisJobBoard({ redis: REDIS_URL, prefix });
    await owned.post({ flow: 'f', id: 'x' });
    await owned.claim('c', 60_000);
    const waiting = owned.waitForWork(60_000);
    await owned.close();
    await owned.close();
    expect(await waiting).toBe(false);
    await board.close();
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.exists(jobKeys(prefix).job('x'))).toBe(1);
  });

  it('validates its options', () => {
    expect(() => redisJobBoard({ redis, prefix: 'a{b}' })).toThrow(
      'Expected `prefix` to be a non-empty string without `{` or `}`, got `a{b}` (string)',
    );
    expect(() => redisJobBoard({ redis: 42 as unknown as Redis })).toThrow(InvalidJobOptionError);
    // The same rule as the run store's: a URL names its scheme.
    expect(() => redisJobBoard({ redis: '127.0.0.1:6379' })).toThrow(InvalidJobOptionError);
  });
});

describe('waiting for work while Redis is away', () => {
  let server: OwnedRedis;

  beforeAll(async () => {
    server = await startRedis();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('waitForWork returns as soon as it is aborted, also while its connection waits to reconnect', async () => {
    const board = redisJobBoard({ redis: server.url, unavailableDeadlineMs: 1_000 });
    try {
      expect(await board.counts()).toBeDefined(); // connected
      const stop = new AbortController();
      const waiting = board.waitForWork(10_000, stop.signal);
      // Let the blocking read start, then take Redis away: its connection goes to "reconnecting".
      await new Promise((resolve) => setTimeout(resolve, 100));
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const began = performance.now();
      stop.abort();
      expect(await waiting).toBe(false);
      // ioredis never settles a command queued on a connection disconnected while reconnecting: the
      // board must not wait for it (a conductor's stop({ drain: true }) hung on this).
      expect(performance.now() - began).toBeLessThan(500);
    } finally {
      await server.start();
      await board.close();
    }
  });
});

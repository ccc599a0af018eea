import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createEngine, linear, redisStore, task } from '../../src/index.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * Ownership on shutdown (API "Ownership and shutdown"): `engine.close()` closes the engine's store, so
 * a program that closes its engine leaves no connection behind; `closeStore: false` keeps a store that
 * other engines share open; a store closes the client it opened from a URL and leaves a client it was
 * given open. (That a program then exits by itself is test/integration/readme-snippets.test.ts.)
 */
const flow = linear('closing', [task({ name: 'a', provides: 'x', execute: () => 1 })]);
let admin: Redis;
let prefix: string;

beforeAll(() => {
  admin = newRedis();
});

afterAll(async () => {
  await admin.quit();
});

beforeEach(() => {
  prefix = testPrefix('close');
});

afterEach(async () => {
  await cleanPrefix(admin, prefix);
});

it('engine.close() closes its store; closeStore: false leaves a shared one open', async () => {
  const own = redisStore({ redis: REDIS_URL, prefix });
  const engine = createEngine({ store: own });
  await engine.run(flow, {}, { id: 'own' });
  await engine.close();
  await expect(own.load('own')).rejects.toThrow('Expected an open store, got one that was closed');

  const shared = redisStore({ redis: REDIS_URL, prefix });
  const first = createEngine({ store: shared, closeStore: false });
  const second = createEngine({ store: shared, closeStore: false });
  await first.run(flow, {}, { id: 'shared' });
  await first.close();
  expect((await second.get('shared'))?.meta.status).toBe('SUCCESS');
  await second.close();
  expect((await shared.load('shared'))?.meta.status).toBe('SUCCESS');
  await shared.close();
  await expect(shared.load('shared')).rejects.toThrow('Expected an open store, got one that was closed');
});

it('engine.close() leaves a Redis client the application passed in open', async () => {
  const client = newRedis();
  try {
    const engine = createEngine({ store: redisStore({ redis: client, prefix }) });
    await engine.run(flow, {}, { id: 'theirs' });
    await engine.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  } finally {
    await client.quit();
  }
});

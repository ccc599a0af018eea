import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redisStore } from '../../src/store/redis-store.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { describeStoreContract } from './store-contract.js';

let admin: Redis;
beforeAll(() => {
  admin = newRedis();
});
afterAll(async () => {
  await admin.quit();
});

describeStoreContract('redisStore (URL, own client)', async () => {
  const prefix = testPrefix('store');
  const store = redisStore({ redis: REDIS_URL, prefix });
  return {
    store,
    async cleanup() {
      await store.close();
      await cleanPrefix(admin, prefix);
    },
  };
});

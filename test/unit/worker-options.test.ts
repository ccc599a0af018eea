import { afterAll, describe, expect, it } from 'vitest';
import { createWorker, InvalidOptionError, memoryStore, redisStore } from '../../src/index.js';
import { REDIS_URL, testPrefix } from '../support/redis.js';

/** Bad worker options are InvalidOptionError, as for engines, stores and the job board (one class). */
describe('createWorker options', () => {
  const store = redisStore({ redis: REDIS_URL, prefix: testPrefix('workeropts') });
  afterAll(() => store.close());

  it.each([
    [
      'options that are not an object',
      () => createWorker(null as never),
      'Expected `options` to be an object',
    ],
    [
      'a store that is not a redisStore()',
      () => createWorker({ store: memoryStore(), flows: [] }),
      'Expected `store` to be a redisStore() (distributed execution keeps its queues in Redis), got',
    ],
    [
      'an empty list of queues',
      () => createWorker({ store, flows: [], queues: [] }),
      'Expected `queues` to be a list of queue names, got `[]` (array)',
    ],
    [
      'a concurrency of 0',
      () => createWorker({ store, flows: [], concurrency: 0 }),
      'Expected `concurrency` to be an integer from 1 and up, got `0` (number)',
    ],
  ])('%s', (_case, make, message) => {
    let error: unknown;
    try {
      make();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message.startsWith(message), (error as Error).message).toBe(true);
  });
});

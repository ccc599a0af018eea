import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.js';
import { redisStore } from '../../src/store/redis-store.js';
import type { RunWrite, Store } from '../../src/store/store.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';
import { meta } from './store-contract.js';

/** Redis killed and restarted under the store: acknowledged writes survive, outages end in a clear error. */
let server: OwnedRedis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await server?.stop();
});

const clients = {
  'its own client (URL)': (deadlineMs: number) => ({
    store: redisStore({ redis: server.url, unavailableDeadlineMs: deadlineMs }),
    done: async () => {},
  }),
  'a client passed in': (deadlineMs: number) => {
    const client = new Redis(server.url);
    client.on('error', () => {});
    return {
      store: redisStore({ redis: client, unavailableDeadlineMs: deadlineMs }),
      done: async () => client.disconnect(),
    };
  },
};

async function started(store: Store, id: string) {
  await store.create(meta(id, { status: 'RUNNING' }), { input: '{}' });
  const claimed = await store.claim(id, 'engine-a');
  return (seq: number, set: Record<string, string>): RunWrite => ({
    runId: id,
    token: claimed!.token,
    seq,
    meta: meta(id, { status: 'RUNNING', owner: 'engine-a' }),
    set,
  });
}

for (const [name, open] of Object.entries(clients)) {
  describe(`redisStore through ${name}, Redis restarted`, () => {
    it('keeps every write acknowledged before a SIGKILL', async () => {
      const { store, done } = open(10_000);
      try {
        const write = await started(store, `durable-${name}`);
        for (let seq = 1; seq <= 20; seq++)
          await store.save(write(seq, { [`task-${seq}`]: `result ${seq}` }));
        await server.kill();
        await server.start();
        const run = await store.load(`durable-${name}`);
        expect(run?.seq).toBe(20);
        expect(run?.token).toBe(2);
        expect(Object.keys(run?.parts ?? {})).toHaveLength(21);
        expect(run?.parts['task-20']).toBe('result 20');
        // Scripts are gone from the restarted server's cache; the store loads them again.
        await store.save(write(21, { after: 'restart' }));
        expect((await store.load(`durable-${name}`))?.seq).toBe(21);
      } finally {
        await store.close();
        await done();
      }
    });

    it('rejects with StoreUnavailableError after the deadline while Redis is down; the same save may be retried', async () => {
      const { store, done } = open(500);
      try {
        const write = await started(store, `outage-${name}`);
        await store.save(write(1, { a: '1' }));
        await server.kill();
        const began = Date.now();
        const second = write(2, { b: '2' });
        const error = await store.save(second).catch((e: unknown) => e);
        const waited = Date.now() - began;
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(waited).toBeGreaterThanOrEqual(450);
        expect(waited).toBeLessThan(3000);
        await expect(store.load(`outage-${name}`)).rejects.toBeInstanceOf(StoreUnavailableError);
        await server.start();
        // Whether or not the first attempt reached Redis after its restart, retrying the same write succeeds.
        // (A retry rebuilt later, with a newer updatedAt, is still the same write.)
        // The client may still be reconnecting (or waiting out Redis' loading) for longer than this
        // store's 500 ms deadline: retrying is what a caller does, and it is safe.
        const retry = { ...second, meta: { ...second.meta, updatedAt: second.meta.updatedAt + 5 } };
        for (let tries = 1; ; tries++) {
          const failed = await store.save(retry).catch((e: unknown) => e);
          if (failed === undefined) break;
          expect(failed).toBeInstanceOf(StoreUnavailableError);
          expect(tries).toBeLessThan(10);
        }
        const run = await store.load(`outage-${name}`);
        expect(run).toMatchObject({ seq: 2, parts: { a: '1', b: '2' } });
      } finally {
        await store.close();
        await done();
      }
    });

    it('completes a save issued while Redis is down once it comes back within the deadline', async () => {
      const { store, done } = open(10_000);
      try {
        const write = await started(store, `recover-${name}`);
        await server.kill();
        const saving = store.save(write(1, { a: '1' }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        await server.start();
        await saving;
        expect(await store.load(`recover-${name}`)).toMatchObject({ seq: 1, parts: { input: '{}', a: '1' } });
      } finally {
        await store.close();
        await done();
      }
    });
  });
}

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, linear, type RunEvent, redisStore, task } from '../../src/index.js';
import { deferred } from '../support/flows.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Many watches of one store share one reading connection (src/store/redis-history-reader.ts): a
 * distributed engine follows every run it starts, and a connection per run would exhaust file
 * descriptors and `maxclients` at a few thousand runs in flight. On a test-owned redis-server, so its
 * client count is this test's alone.
 */
let server: OwnedRedis;
let admin: Redis;

beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
});

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

const clients = async () => Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);

describe('watching many runs', () => {
  it('200 watches use one connection, and each sees its own run, every event once, in order', async () => {
    const gate = deferred();
    const flow = linear('watched', [
      task({ name: 'a', provides: 'x', execute: () => gate.promise.then(() => 1) }),
      task({ name: 'b', requires: 'x', execute: () => 2 }),
    ]);
    const runner = createEngine({ store: redisStore({ redis: server.url, prefix: 'many' }) });
    const watcher = createEngine({ store: redisStore({ redis: server.url, prefix: 'many' }) });
    const ids = Array.from({ length: 200 }, (_, i) => `run-${i}`);
    const results = ids.map((id) => runner.start(flow, {}, { id }).result);
    await Promise.all(ids.map((id) => runner.history(id)));
    const before = await clients();
    const seen = new Map<string, RunEvent[]>(ids.map((id) => [id, []]));
    const watching = ids.map(async (id) => {
      for await (const event of watcher.watch(id)) seen.get(id)!.push(event);
    });
    // Every watch has read its run's first events: then count the connections the watches hold.
    await until(() => ids.every((id) => seen.get(id)!.some((e) => e.task === 'a')));
    const during = await clients();
    gate.resolve();
    await Promise.all(results);
    await Promise.all(watching);
    for (const id of ids) {
      const events = seen.get(id)!;
      expect(events).toEqual(await watcher.history(id));
      expect(events.map((e) => `${e.task ?? '[run]'} ${e.state}`)).toEqual([
        '[run] RUNNING',
        'a RUNNING',
        'a SUCCESS',
        'b RUNNING',
        'b SUCCESS',
        '[run] SUCCESS',
      ]);
    }
    // The watcher's store had one connection already (the history reads); the watches add one.
    expect(during - before).toBeLessThanOrEqual(2);
    await runner.close();
    await watcher.close();
  });

  it('a watch added while the shared read is blocked gets its events at once, not after the block', async () => {
    const gates = [deferred(), deferred()];
    const flow = (n: number) =>
      linear(`late-${n}`, [task({ name: 'a', execute: () => gates[n]!.promise.then(() => 1) })]);
    const runner = createEngine({ store: redisStore({ redis: server.url, prefix: 'late' }) });
    const watcher = createEngine({ store: redisStore({ redis: server.url, prefix: 'late' }) });
    const first = runner.start(flow(0), {}, { id: 'first' });
    await runner.history('first');
    const firstEvents: RunEvent[] = [];
    const watchingFirst = (async () => {
      for await (const e of watcher.watch('first')) firstEvents.push(e);
    })();
    await until(() => firstEvents.some((e) => e.task === 'a'));
    // The shared read now blocks on `first`'s stream; a second watch must not wait out its block.
    const second = runner.start(flow(1), {}, { id: 'second' });
    await runner.history('second');
    const t0 = performance.now();
    const secondEvents: RunEvent[] = [];
    const watchingSecond = (async () => {
      for await (const e of watcher.watch('second')) secondEvents.push(e);
    })();
    await until(() => secondEvents.some((e) => e.task === 'a'));
    const latencyMs = performance.now() - t0;
    gates[0]!.resolve();
    gates[1]!.resolve();
    await Promise.all([first.result, second.result, watchingFirst, watchingSecond]);
    // The read blocks 5 s when nothing happens; the new watch woke it (CLIENT UNBLOCK). Margin for CI.
    expect(latencyMs).toBeLessThan(2_000);
    await runner.close();
    await watcher.close();
  });

  it('a watch ends when its run is deleted, and the others go on', async () => {
    const gate = deferred();
    const flow = linear('deleted', [task({ name: 'a', execute: () => gate.promise.then(() => 1) })]);
    const runner = createEngine({ store: redisStore({ redis: server.url, prefix: 'del' }) });
    const store = redisStore({ redis: server.url, prefix: 'del' });
    const kept = runner.start(flow, {}, { id: 'kept' });
    await runner.history('kept');
    // A finished run, deleted while watched (a watch of a finished run waits for more events).
    await runner.run(linear('quick', [task({ name: 'q', execute: () => 1 })]), {}, { id: 'gone' });
    const keptEvents: RunEvent[] = [];
    const goneEvents: RunEvent[] = [];
    const stopKept = new AbortController();
    const watchingKept = (async () => {
      for await (const e of store.watch!('kept', { signal: stopKept.signal })) keptEvents.push(e);
    })();
    const watchingGone = (async () => {
      for await (const e of store.watch!('gone')) goneEvents.push(e);
    })();
    await until(() => goneEvents.length === 4 && keptEvents.length === 2);
    await store.delete('gone');
    await watchingGone; // ends by itself (the reader checks quiet runs every 5 s)
    gate.resolve();
    await kept.result;
    // A store's watch does not end with the run (engine.watch does): it goes on until stopped.
    await until(() => keptEvents.map((e) => `${e.task ?? '[run]'} ${e.state}`).includes('[run] SUCCESS'));
    stopKept.abort();
    await watchingKept;
    expect(keptEvents.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await runner.close();
    await store.close();
  }, 20_000);
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

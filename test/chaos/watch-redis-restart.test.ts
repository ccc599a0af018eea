import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngine, linear, redisStore, task } from '../../src/index.js';
import { deferred } from '../support/flows.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * A watch outlives a Redis restart: its own connection reconnects and it reads on from the last event
 * it gave, so a watcher sees every stored event once, in order, and still ends with the run. Its
 * reading connection, like every client taskweave opens, prints no "[ioredis] Unhandled error event".
 */
let server: OwnedRedis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await server?.stop();
});

describe('engine.watch while Redis restarts', () => {
  it('resumes after the restart from the last event seen and ends with the run', async () => {
    const gate = deferred();
    const flow = linear('restarted', [
      task({ name: 'a', provides: 'x', execute: () => gate.promise.then(() => 1) }),
      task({ name: 'b', requires: 'x', execute: () => 2 }),
    ]);
    const runner = createEngine({ store: redisStore({ redis: server.url, prefix: 'run' }) });
    const watcher = createEngine({ store: redisStore({ redis: server.url, prefix: 'run' }) });
    const run = runner.start(flow, {}, { id: 'w1' });
    await runner.history('w1'); // created
    const aRunning = deferred();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of watcher.watch('w1')) {
        seen.push(`${e.seq} ${e.task ?? '[run]'} ${e.state}`);
        if (e.task === 'a' && e.state === 'RUNNING') aRunning.resolve();
      }
    })();
    await aRunning.promise;
    const errors = vi.spyOn(console, 'error');
    await server.kill();
    await server.start();
    // Redis is back; a's end, b and the run's end are stored now, and reach the watcher.
    gate.resolve();
    await run.result;
    await watching;
    expect(errors.mock.calls.flat().join('\n')).not.toMatch(/Unhandled error event/);
    errors.mockRestore();
    expect(seen).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING',
      '3 a SUCCESS',
      '4 b RUNNING',
      '5 b SUCCESS',
      '6 [run] SUCCESS',
    ]);
    expect(seen).toEqual(
      (await watcher.history('w1')).map((e) => `${e.seq} ${e.task ?? '[run]'} ${e.state}`),
    );
    await runner.close();
    await watcher.close();
  });
});

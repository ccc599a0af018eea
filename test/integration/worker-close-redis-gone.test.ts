import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, createWorker, linear, redisStore, task } from '../../src/index.js';
import { deferred, untilAborted } from '../support/flows.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * worker.close() when Redis has gone away under a task it holds: it returns (the read in flight is
 * dropped after its block and a grace, the messages' release gives up at the store's deadline, the
 * task's signal is aborted) instead of waiting for ioredis to settle a read it may never settle.
 */
let server: OwnedRedis;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

it('worker.close() returns when Redis is gone under a held task, and aborts the task', async () => {
  const DEADLINE = 1_000;
  const started = deferred();
  const aborted = deferred();
  const flow = linear('worker-outage', [
    task({
      name: 'holds',
      execute: (_args, ctx) => {
        started.resolve();
        ctx.signal.addEventListener('abort', () => aborted.resolve());
        return untilAborted(ctx.signal);
      },
    }),
  ]);
  const engine = createEngine({
    store: redisStore({ redis: server.url, prefix: 'gone' }),
    flows: [flow],
    execution: 'distributed',
    unavailableDeadlineMs: DEADLINE,
  });
  const worker = createWorker({
    store: redisStore({ redis: server.url, prefix: 'gone', unavailableDeadlineMs: DEADLINE }),
    flows: [flow],
  });
  try {
    await worker.start();
    engine.start(flow, {}, { id: 'held' }).result.catch(() => {});
    await started.promise;
    await server.kill();
    // Long enough for the reader's connection to be waiting to reconnect.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const began = performance.now();
    await worker.close();
    const ms = Math.round(performance.now() - began);
    await aborted.promise;
    // Read block 250 ms + grace 1 s, then the release's deadline.
    expect(ms).toBeLessThan(1_250 + DEADLINE + 1_500);
    console.info(
      `worker.close() with Redis gone and a task held returned after ${ms} ms (deadline ${DEADLINE} ms)`,
    );
  } finally {
    await server.start();
    await worker.close();
    await engine.close();
  }
});

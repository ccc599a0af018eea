import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  createConductor,
  createEngine,
  linear,
  redisJobBoard,
  redisStore,
  StoreUnavailableError,
  task,
} from '../../src/index.js';
import { deferred, untilAborted } from '../support/flows.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * A conductor whose Redis goes away keeps trying with backoff (`backoff` events carrying the
 * StoreUnavailableError), says so when Redis answers again (`recovered`), and goes on claiming and
 * completing jobs. No client taskweave opened prints "[ioredis] Unhandled error event" meanwhile.
 * Test-owned redis-server with AOF, SIGKILLed and restarted.
 */
let server: OwnedRedis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await server?.stop();
});

it('keeps trying with backoff while Redis is down and goes on when it returns', async () => {
  const flow = linear('after-outage', [task({ name: 'a', provides: 'x', execute: async () => 'done' })]);
  const board = redisJobBoard({ redis: server.url, prefix: 'outage', unavailableDeadlineMs: 300 });
  const engine = createEngine({ store: redisStore({ redis: server.url, prefix: 'outage' }), flows: [flow] });
  const conductor = createConductor({
    board,
    engine,
    leaseMs: 2_000,
    pollMs: 200,
    backoffMs: 50,
    maxBackoffMs: 200,
    unavailableDeadlineMs: 1_000,
  });
  const backoffs: Error[] = [];
  const firstBackoff = new Promise<void>((resolve) =>
    conductor.on('backoff', ({ error }) => {
      backoffs.push(error);
      resolve();
    }),
  );
  const recovered = new Promise<{ afterMs: number; backoffs: number }>((resolve) =>
    conductor.on('recovered', resolve),
  );
  const errors = vi.spyOn(console, 'error');
  try {
    await conductor.start();
    await server.kill();
    await firstBackoff;
    // Down for a while: several attempts, each a StoreUnavailableError (or the client's own error).
    while (backoffs.length < 3) await new Promise((resolve) => conductor.on('backoff', resolve));
    expect(backoffs.some((e) => e instanceof StoreUnavailableError)).toBe(true);
    await server.start();
    const back = await recovered;
    expect(back.backoffs).toBeGreaterThanOrEqual(3);
    await board.post({ flow: 'after-outage', id: 'after' });
    const job = await board.wait('after', { timeoutMs: 10_000 });
    expect(job).toMatchObject({ state: 'COMPLETE', results: { x: 'done' } });
    expect(errors.mock.calls.flat().join('\n')).not.toMatch(/Unhandled error event/);
    console.info(
      `conductor: ${back.backoffs} backoffs over ${back.afterMs} ms while Redis was down, then it went on`,
    );
  } finally {
    errors.mockRestore();
    await conductor.stop();
    await engine.close();
    await board.close();
  }
});

// stop() gives up on what it cannot write at the deadline. A drain without timeoutMs waits for the held
// run: with Redis gone its lease cannot be renewed, so the run is stopped when the lease runs out (another
// conductor may take it from then on), and the job's outcome gives up a deadline later.
const LEASE_MS = 2_000;
it.each([
  ['stop()', undefined, 0],
  ['stop({ drain: true })', { drain: true }, LEASE_MS],
] as const)(
  '%s returns within its deadlines when Redis goes away under a held job; the run stays stored',
  async (what, stopOptions, waitsMs) => {
    const DEADLINE = 1_000;
    const id = `held-${waitsMs}`;
    const started = deferred();
    const flow = linear('held-in-outage', [
      task({
        name: 'waits',
        provides: 'x',
        execute: (_args, ctx) => {
          started.resolve();
          return untilAborted(ctx.signal);
        },
      }),
    ]);
    const board = redisJobBoard({ redis: server.url, prefix: 'held', unavailableDeadlineMs: DEADLINE });
    const engine = createEngine({
      store: redisStore({ redis: server.url, prefix: 'held' }),
      flows: [flow],
      unavailableDeadlineMs: DEADLINE,
    });
    const conductor = createConductor({ board, engine, leaseMs: LEASE_MS, unavailableDeadlineMs: DEADLINE });
    try {
      await conductor.start();
      await board.post({ flow: 'held-in-outage', id });
      await started.promise;
      await server.kill();
      const began = performance.now();
      await conductor.stop(stopOptions);
      const ms = Math.round(performance.now() - began);
      expect(ms).toBeLessThan(waitsMs + DEADLINE + 1_500);
      console.info(
        `conductor.${what} with a job held and Redis gone returned after ${ms} ms (deadline ${DEADLINE} ms, lease ${LEASE_MS} ms)`,
      );
    } finally {
      if (server.process.exitCode !== null || server.process.signalCode !== null) await server.start();
      await conductor.stop();
      await engine.close();
      await board.close();
    }
    // The run is still stored (AOF) where a conductor's takeover or engine.resume finds it.
    const reader = createEngine({ store: redisStore({ redis: server.url, prefix: 'held' }) });
    try {
      expect((await reader.get(id))?.meta.status).toBe('RUNNING');
    } finally {
      await reader.close();
    }
  },
);

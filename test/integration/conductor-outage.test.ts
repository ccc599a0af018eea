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

import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createConductor,
  createEngine,
  type JobBoard,
  linear,
  memoryStore,
  redisJobBoard,
  task,
} from '../../src/index.js';
import { type Deferred, deferred } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * A conductor never holds more jobs than its `concurrency`, however many are waiting on the board.
 * Nothing checked the most it held, so a conductor claiming one job too many went unnoticed (issue 16,
 * mutant 4). Every claim is counted when the conductor reports it, with the jobs it holds at that moment.
 */
describe('conductor concurrency', () => {
  let redis: Redis;
  let prefix: string;
  let board: JobBoard;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('conductor-concurrency');
    board = redisJobBoard({ redis: REDIS_URL, prefix });
  });

  afterEach(async () => {
    await board.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('holds at most `concurrency` jobs at once while more are waiting', async () => {
    const jobs = 5;
    const concurrency = 2;
    // Each job's only task waits on its own gate, so a job stays held until the test lets it go.
    const gates: Deferred[] = [];
    const startWaiters: { count: number; resolve: () => void }[] = [];
    const hold = task({
      name: 'hold',
      requires: 'n',
      provides: 'out',
      async execute({ n }) {
        const gate = deferred();
        gates.push(gate);
        for (const w of startWaiters.filter((w) => gates.length >= w.count)) w.resolve();
        await gate.promise;
        return n;
      },
    });
    const flow = linear('held', [hold]);
    const started = (count: number) =>
      gates.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => startWaiters.push({ count, resolve }));

    const engine = createEngine({ store: memoryStore(), flows: [flow] });
    const conductor = createConductor({ board, engine, concurrency, leaseMs: 5_000 });
    const heldAtClaim: number[] = [];
    conductor.on('claimed', () => heldAtClaim.push(conductor.stats().running));
    const ids = Array.from({ length: jobs }, (_, i) => `job-${i}`);
    for (const [i, id] of ids.entries()) await board.post({ flow: 'held', id, inputs: { n: i } });
    try {
      await conductor.start();
      // Let the oldest held job finish each time `concurrency` of them are running (all jobs are
      // waiting, so a conductor that claimed past its limit would have done so by the time they are).
      for (let i = 0; i < jobs; i++) {
        await started(Math.min(i + concurrency, jobs));
        gates[i]!.resolve();
      }
      const done = await Promise.all(ids.map((id) => board.wait(id, { timeoutMs: 10_000 })));
      expect(done.map((job) => job.state)).toEqual(ids.map(() => 'COMPLETE'));
    } finally {
      await conductor.stop();
      await engine.close();
    }
    expect(heldAtClaim).toHaveLength(jobs);
    expect(Math.max(...heldAtClaim)).toBe(concurrency);
    expect(conductor.stats()).toMatchObject({ claimed: jobs, completed: jobs, lost: 0, running: 0 });
  });
});

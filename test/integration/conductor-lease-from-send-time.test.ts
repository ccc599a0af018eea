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
import { deferred, untilAborted } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * A conductor counts a renewed lease from the moment the renewal was *sent*, not from when its reply
 * came back: the board sets the new expiry when the request arrives, so a reply that is slow to come
 * back (a loaded network, a proxy, a client that queues replies) must not make the conductor believe
 * its lease outlives the board's expiry. If it did, another conductor could take the job over while
 * this one still runs it, and both would run side effects (issue 16, mutant 3: counted from the reply,
 * the conductor noticed being overdue 604 ms after the board's expiry).
 *
 * The board here applies the first renewal at once but delays its reply by `replyDelayMs`; later
 * renewals never reach the board (it went silent). The conductor must give up the job at its first
 * heartbeat after the board's expiry, not `replyDelayMs` later.
 */
describe('conductor lease counted from the renewal send time', () => {
  let redis: Redis;
  let prefix: string;
  let board: JobBoard;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('lease-send-time');
    board = redisJobBoard({ redis: REDIS_URL, prefix });
  });

  afterEach(async () => {
    await board.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it('gives up a job by the first heartbeat after the board expiry, however late the renewal reply came', async () => {
    // A lease long enough that a loaded machine's late timers cannot expire it before the first renewal.
    const leaseMs = 3_000;
    const heartbeatMs = 100;
    const replyDelayMs = 1_500;

    /** The board's expiry (Redis clock, epoch ms) after the renewal it applied. */
    let boardExpiry: number | undefined;
    let renewals = 0;
    const silent: ((renewed: boolean) => void)[] = [];
    const slowBoard = new Proxy(board, {
      get(target, prop, receiver) {
        if (prop !== 'renew') {
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return async (id: string, owner: string, token: number, ms: number): Promise<boolean> => {
          renewals += 1;
          // After the first renewal the board goes silent: nothing applied, no reply.
          if (renewals > 1) return new Promise<boolean>((resolve) => silent.push(resolve));
          const renewed = await target.renew(id, owner, token, ms);
          boardExpiry = (await target.get(id))?.leaseUntil;
          await new Promise((resolve) => setTimeout(resolve, replyDelayMs));
          return renewed;
        };
      },
    });

    const running = deferred();
    const flow = linear('long', [
      task({
        name: 'work',
        async execute(_args, ctx) {
          running.resolve();
          await untilAborted(ctx.signal);
        },
      }),
    ]);
    const engine = createEngine({ store: memoryStore(), flows: [flow] });
    const conductor = createConductor({ board: slowBoard, engine, leaseMs, heartbeatMs });
    const events: string[] = [];
    const lost = deferred<{ at: number; reason: string }>();
    conductor.on('renewed', () => events.push('renewed'));
    conductor.on('lost', ({ reason }) => {
      events.push(`lost (${reason})`);
      lost.resolve({ at: Date.now(), reason });
    });
    try {
      await board.post({ flow: 'long', id: 'job-1', inputs: {} });
      await conductor.start();
      const { at } = await lost.promise;
      await running.promise;
      // The one renewal the board applied was reported (late), then the board went silent.
      expect(events).toEqual(['renewed', 'lost (overdue)']);
      expect(boardExpiry).toBeTypeOf('number');
      // Redis runs on this machine: its clock is ours. Counted from the send time, the conductor gives up
      // at its first heartbeat past the expiry (`heartbeatMs` at most, plus a loaded machine's timer
      // lateness); counted from the reply, it would hold on about `replyDelayMs` longer.
      const lateMs = at - boardExpiry!;
      expect(lateMs, `gave up ${lateMs} ms after the board's expiry`).toBeLessThan(replyDelayMs / 2);
    } finally {
      for (const resolve of silent.splice(0)) resolve(false);
      await conductor.stop();
      await engine.close();
    }
  });
});

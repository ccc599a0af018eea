import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createWorker, redisStore, type Store, type Worker } from '../../src/index.js';
import { chainFlow, type Effect, redisEffects } from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Distributed runs outlive a Redis restart. The test's own redis-server (AOF, `appendfsync always`,
 * so every acknowledged write is on disk) is SIGKILLed while two workers have tasks of 20 runs in
 * hand, and started again on the same port and directory. The engine and the workers reconnect; the
 * queues' consumer group, its pending entries, the runs and their deadlines come back from the AOF.
 * Every run completes; each task's effect happens under one idempotency key (a task whose outcome
 * could not be written while Redis was down is executed again with the same key, or its write goes
 * through once Redis is back), and each task succeeds once in each run's history.
 *
 * The effects are logged on the shared Redis, which stays up, so the test sees every one of them.
 */
const RUNS = 20;
const shared = newRedis();
const prefix = testPrefix('drestart');
let server: OwnedRedis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
});

afterAll(async () => {
  await cleanPrefix(shared, prefix);
  await server?.stop();
});

describe('distributed execution while Redis restarts (AOF)', () => {
  // Down 300 ms: the workers' writes wait and go through. Down 1.5 s, past the 1 s visibility timeout:
  // the workers cannot extend their claims meanwhile, so a message may be claimed again by the other
  // worker once Redis is back, its task executed again with the same key, and one outcome fenced out.
  it.each([300, 1_500])(
    'Redis down %i ms: every run completes, one key per task, one success per task in history',
    async (downMs) => {
      const log = redisEffects(shared, `${prefix}:${downMs}`);
      const tw = `tw${downMs}`;
      // Long enough that tasks are in hand when Redis dies, short enough that the runs end soon after.
      const behaviour = (label: string) => ({
        label,
        before: () => new Promise<void>((resolve) => setTimeout(resolve, 40)),
      });
      const stores: Store[] = [];
      const workers: Worker[] = [];
      const errors: Error[] = [];
      const dropped: string[] = [];
      for (const label of ['w1', 'w2']) {
        const store = redisStore({ redis: server.url, prefix: tw });
        const worker = createWorker({
          store,
          flows: [chainFlow(log, behaviour(label))],
          concurrency: 8,
          visibilityTimeoutMs: 1_000,
          pollMs: 20,
          id: `${label}-${downMs}`,
        });
        worker.on('error', (error) => errors.push(error));
        worker.on('dropped', (e) => dropped.push(`${e.run} ${e.task} ${e.reason}`));
        stores.push(store);
        workers.push(worker);
        await worker.start();
      }
      const engine = createEngine({
        store: redisStore({ redis: server.url, prefix: tw }),
        flows: [chainFlow(log)],
        execution: 'distributed',
      });
      try {
        const runs = Array.from({ length: RUNS }, (_, i) =>
          engine.start('chain', { seed: `s${i}` }, { id: `restart-${i}` }),
        );
        // Some tasks done, more in hand: Redis dies under the workers.
        await waitForEffects(log, RUNS + 5);
        await server.kill();
        const killedWith = (await log.all()).length;
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await server.start();

        const results = await Promise.all(runs.map((run) => run.result));
        results.forEach((result, i) => {
          expect(result).toEqual({ ra: `s${i}a`, rb: `s${i}ab`, rc: `s${i}abc`, rd: `s${i}abcd` });
        });
        const effects = await log.all();
        expect(killedWith).toBeLessThan(RUNS * 4); // Redis did die mid-run
        // Every task's effect under its one key (`<run>:<task>`): none lost, and one repeated after the
        // restart repeats its key, so an idempotent task does its work once.
        expect(effects.every((e) => e.kind === 'execute')).toBe(true);
        const byKey = new Map<string, Effect[]>();
        for (const e of effects) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
        expect([...byKey.keys()].sort()).toEqual(
          Array.from({ length: RUNS }, (_, i) => ['a', 'b', 'c', 'd'].map((t) => `restart-${i}:${t}`))
            .flat()
            .sort(),
        );
        for (const [key, same] of byKey) expect(same.every((e) => key.endsWith(`:${e.task}`))).toBe(true);
        // Each task succeeded once in the stored run, and nothing was dropped as poison.
        for (let i = 0; i < RUNS; i++) {
          const history = await engine.history(`restart-${i}`);
          const successes = history.filter((e) => e.task !== undefined && e.state === 'SUCCESS');
          expect(successes.map((e) => e.task)).toEqual(['a', 'b', 'c', 'd']);
          expect(history.at(-1)).toMatchObject({ state: 'SUCCESS' });
        }
        expect(dropped.filter((d) => !d.includes('stale') && !d.includes('fenced'))).toEqual([]);
        const repeated = effects.length - RUNS * 4;
        console.log(
          `Redis SIGKILLed after ${killedWith} of ${RUNS * 4} effects, down ${downMs} ms: ${repeated} tasks executed again with their key, ${errors.length} worker errors survived`,
        );
      } finally {
        await engine.close();
        for (const worker of workers) await worker.close();
        for (const store of stores) await store.close();
      }
    },
    60_000,
  );
});

async function waitForEffects(log: ReturnType<typeof redisEffects>, count: number): Promise<void> {
  const until = Date.now() + 20_000;
  while ((await log.all()).length < count) {
    if (Date.now() > until) throw new Error(`fewer than ${count} effects within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

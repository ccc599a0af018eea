import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, redisStore } from '../../src/index.js';
import { countOf, type Effect, PROVISION_RESULTS, provisionFlow, redisEffects } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * A rolling deploy of distributed workers: old workers know `provision` v1, new ones v2 (a task added),
 * both read the same queue. A worker that takes a task of the version it does not know passes it on to
 * that version's queue, where it waits — however long — for a worker that knows it; nothing is dropped
 * as poison, and each run's tasks run on the code it started on. Passing a message on is not a
 * delivery: with `maxDeliveries: 1` a passed task still executes.
 */
const redis = newRedis();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('distributed execution: flow versions side by side', () => {
  it('each run executes on the workers that know its version; the others pass its tasks on', async () => {
    const prefix = testPrefix('dversions');
    const log = redisEffects(redis, prefix);
    const processes: WorkerProcess[] = [];
    const engine = createEngine({
      store: redisStore({ redis: REDIS_URL, prefix }),
      flows: [
        provisionFlow(log, {}, { version: '1' }),
        provisionFlow(log, {}, { version: '2', extraTask: true }),
      ],
      execution: 'distributed',
    });
    cleanups.push(async () => {
      for (const p of processes) await p.kill();
      await engine.close();
      await cleanPrefix(redis, prefix);
    });
    const options = { maxDeliveries: 1, visibilityTimeoutMs: 2_000, pollMs: 20 };
    const worker = async (label: string, version: string) => {
      const p = startWorkerProcess(prefix, label, {}, options, [version]);
      processes.push(p);
      await p.waitForLine((l) => l === 'READY');
      return p;
    };
    const deadLetters = () => redis.xlen(`{${prefix}}:dead`);

    // Only a new worker is up: a v1 run's first task reaches it, and waits for an old one.
    const newer = await worker('new', '2');
    const v1 = engine.start(provisionFlow(log, {}, { version: '1' }), { name: 'web' }, { id: 'run-v1' });
    const passed = await newer.waitForLine((l) => l.startsWith('PASSED reserve'));
    expect(passed).toMatch(/^PASSED reserve default\/provision@\S+$/);
    expect(await log.all()).toEqual([]);
    expect((await engine.get('run-v1'))?.meta.status).toBe('RUNNING');
    const hash = passed.split('@')[1]!;
    const explained = await engine.explain('run-v1');
    expect(explained.waitingOn).toContainEqual(
      expect.objectContaining({
        task: 'reserve',
        unservedQueue: `default/provision@${hash}`,
        needsFlow: { flow: 'provision', version: '1', hash },
      }),
    );
    expect(explained.text).toContain(
      `reserve: waits in queue default/provision@${hash} for a worker that knows flow provision version 1`,
    );
    // An old worker starts: it finds the task in v1's queue (and any later one the new worker passes on).
    await worker('old', '1');
    expect(await v1.result).toEqual(PROVISION_RESULTS);

    // The new worker stops; only the old one is up when a v2 run starts: it passes v2's first task on.
    await newer.stop();
    const v2 = engine.start('provision', { name: 'web' }, { id: 'run-v2' });
    const older = processes.find((p) => p.label === 'old')!;
    await older.waitForLine((l) => l.startsWith('PASSED reserve'));
    expect((await engine.get('run-v2'))?.meta.status).toBe('RUNNING');
    await worker('new-2', '2');
    expect(await v2.result).toEqual(PROVISION_RESULTS);

    const effects = await log.all();
    const of = (run: string) => effects.filter((e) => e.key.startsWith(`${run}:`));
    const labels = (list: Effect[]) => [...new Set(list.map((e) => e.label))];
    expect(countOf(of('run-v1'))).toEqual({ reserve: 1, format: 1, tag: 1, attach: 1, boot: 1 });
    expect(labels(of('run-v1'))).toEqual(['old']);
    expect(countOf(of('run-v2'))).toEqual({ reserve: 1, format: 1, tag: 1, attach: 1, boot: 1, announce: 1 });
    expect(labels(of('run-v2'))).toEqual(['new-2']);
    expect(await deadLetters()).toBe(0);
  });
});

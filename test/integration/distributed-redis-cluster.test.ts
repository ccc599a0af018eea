import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEngine, createWorker, linear, redisStore, task } from '../../src/index.js';
import { queuesOf } from '../../src/store/redis-queues.js';
import { clusterTarget, useDistributedHarness } from '../support/distributed-harness.js';
import { chainFlow, countOf, deferred, redisEffects, waitFor } from '../support/flows.js';
import { testPrefix } from '../support/redis.js';
import { startOneNodeCluster } from '../support/redis-server.js';
import { startProcess, type WorkerProcess } from '../support/worker-process.js';

const CHILD = new URL('../support/cluster-outbox-child.ts', import.meta.url).pathname;

/**
 * Distributed execution on a test-owned 3-master Redis Cluster. A run's keys (`{prefix:runId}`) and
 * its queues and deadlines (`{prefix}`) are on different slots, here always on different masters: a
 * step's run write stores what it sends to the queues in the run's outbox, relayed after it; entries
 * a process left when it died between the two are relayed by any worker. The basic behaviour (order,
 * revert, backoff, routing, conflicts, progress) is tested on a Cluster in distributed-basics.test.ts.
 */
describe('distributed execution on a Redis Cluster', () => {
  const target = clusterTarget();
  const { setup, cleanups } = useDistributedHarness(target);

  it('a worker whose message another took meanwhile has its outcome fenced out (checked before its run write)', async () => {
    const { engine, worker, id: idFor, admin, prefix } = setup('dcl-fenced');
    const keys: string[] = [];
    const started = deferred();
    const gate = deferred();
    const flow = linear('cl-fenced', [
      task({
        name: 'slow',
        provides: 'v',
        execute: async (_: unknown, ctx) => {
          keys.push(ctx.idempotencyKey);
          started.resolve();
          if (keys.length === 1) await gate.promise;
          return keys.length;
        },
      }),
    ]);
    const e = engine([flow]);
    const first = worker([flow]);
    const dropped: string[] = [];
    first.on('dropped', (d) => dropped.push(`${d.task} ${d.reason}`));
    await first.start();
    const id = await idFor('fenced');
    const run = e.start(flow, {}, { id });
    await started.promise;
    // As if the first worker froze past its visibility timeout and another claimed its message.
    const queue = `{${prefix}}:q:default`;
    const pending = (await admin.xpending(queue, 'workers', '-', '+', 10)) as [string][];
    expect(pending).toHaveLength(1);
    await admin.xclaim(queue, 'workers', 'thief', 0, pending[0]![0], 'JUSTID');
    gate.resolve();
    await waitFor(() => dropped.length > 0, 5_000, 'the outcome dropped');
    expect(dropped).toEqual(['slow fenced: another worker took the task']);
    expect((await e.history(id)).filter((ev) => ev.state === 'SUCCESS')).toEqual([]);
    // The message, held by a consumer that never finishes, is delivered again after the timeout.
    await worker([flow], { visibilityTimeoutMs: 300 }).start();
    expect(await run.result).toEqual({ v: 2 });
    expect(keys).toEqual([`${id}:slow`, `${id}:slow`]);
  });

  it('an entry registered but never written is marked abandoned, so its write landing late is refused', async () => {
    const { worker, admin, prefix, outboxLeft } = setup('dcl-abandoned');
    const store = redisStore({ redis: admin, prefix });
    cleanups.push(() => store.close());
    const queues = queuesOf(store)!;
    const runId = 'ghost';
    const keys = { meta: `{${prefix}:${runId}}:meta`, parts: `{${prefix}:${runId}}:parts` };
    const entryKey = `{${prefix}:${runId}}:outbox:late`;
    // Registered (long ago) by a process that then froze before its run write.
    await admin.zadd(`{${prefix}}:outbox`, 0, entryKey);
    await worker([], { visibilityTimeoutMs: 200 }).start();
    await waitFor(async () => (await outboxLeft()).registered === 0, 5_000, 'the entry forgotten');
    expect(await admin.get(entryKey)).toBe('abandoned');
    expect(await admin.pttl(entryKey)).toBeGreaterThan(0);
    const late = await queues.run(
      'writeRunOutbox',
      [keys.meta, keys.parts, `{${prefix}:${runId}}:events`, entryKey],
      [
        ...queues.runArgs({
          mode: 'create',
          runId,
          token: 1,
          seq: 0,
          meta: {
            id: runId,
            flow: 'f',
            version: '1',
            hash: 'h',
            status: 'RUNNING',
            createdAt: 1,
            updatedAt: 1,
          },
          set: { core: '{}' },
          events: [],
          dispatch: [],
          addTimers: [],
          removeTimers: [],
        }),
        '{"k":[],"a":[]}',
      ],
    );
    expect(late).toEqual(['LATE']);
    expect(await admin.exists(keys.meta, keys.parts)).toBe(0);
  });

  describe('a process killed between its run write and its relay', () => {
    const child = (args: string[]): WorkerProcess => {
      const p = startProcess(CHILD, [
        target
          .owned()
          .nodes.map((n) => String(n.port))
          .join(','),
        ...args,
      ]);
      cleanups.push(() => p.kill());
      return p;
    };

    it('an engine killed right after storing a new run: a worker relays its first task', async () => {
      const { prefix, admin, worker, engine, id: idFor, outboxLeft } = setup('dcl-kill-start');
      const log = redisEffects(admin, prefix);
      const id = await idFor('orphan');
      const starter = child([prefix, 'start', id]);
      await starter.waitForLine((l) => l === `STORED ${id}`);
      await starter.exited;
      // Stored with its first task RUNNING, and nothing on the queue.
      expect(await admin.hget(`{${prefix}:${id}}:meta`, 'status')).toBe('RUNNING');
      expect(await admin.xlen(`{${prefix}}:q:default`).catch(() => 0)).toBe(0);
      expect((await outboxLeft()).registered).toBe(1);
      const visibilityTimeoutMs = 800;
      const relayedAfter = Date.now();
      await worker([chainFlow(log, { label: 'after' })], { visibilityTimeoutMs }).start();
      const run = await engine([chainFlow(log)]).resume(id);
      expect(await run.result).toEqual({ ra: 'sa', rb: 'sab', rc: 'sabc', rd: 'sabcd' });
      expect(Date.now() - relayedAfter).toBeLessThan(visibilityTimeoutMs + 5_000);
      expect(countOf(await log.all())).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    });

    it('a worker killed right after storing an outcome: another relays the next task and drops the stale message', async () => {
      const { prefix, admin, worker, engine, id: idFor } = setup('dcl-kill-work');
      const log = redisEffects(admin, prefix);
      const doomed = child([prefix, 'work']);
      await doomed.waitForLine((l) => l === 'READY');
      const e = engine([chainFlow(log)]);
      const id = await idFor('handed');
      const run = e.start('chain', { seed: 's' }, { id });
      await doomed.waitForLine((l) => l === `STORED ${id}`);
      await doomed.exited;
      const dropped: string[] = [];
      const after = worker([chainFlow(log, { label: 'after' })], { visibilityTimeoutMs: 800 });
      after.on('dropped', (d) => dropped.push(`${d.task} ${d.reason}`));
      await after.start();
      expect(await run.result).toEqual({ ra: 'sa', rb: 'sab', rc: 'sabc', rd: 'sabcd' });
      const effects = await log.all();
      // a ran once, in the killed worker: its outcome was stored; its message, never acknowledged,
      // came back and was dropped as stale rather than executed again.
      expect(countOf(effects)).toEqual({ a: 1, b: 1, c: 1, d: 1 });
      expect(effects.find((x) => x.task === 'a')?.label).toBe('child-work');
      await after.close({ drain: true });
      expect(dropped).toEqual(['a stale: the run no longer waits for this task']);
    });
  });
});

describe('distributed execution through a plain client to a one-node Cluster (one shard, a proxy)', () => {
  it('switches to the outbox at the first CROSSSLOT reply (nothing written by the refused script) and completes', async () => {
    const server = await startOneNodeCluster();
    const prefix = testPrefix('dcl-one');
    const admin = new Redis(server.port, '127.0.0.1');
    const engineStore = redisStore({ redis: server.url, prefix });
    const workerStore = redisStore({ redis: server.url, prefix });
    const engine = createEngine({ store: engineStore, flows: [], execution: 'distributed' });
    try {
      const flow = linear('one-shard', [
        task({ name: 'a', provides: 'x', execute: () => 1 }),
        task({ name: 'b', requires: ['x'], provides: 'y', execute: ({ x }: { x: number }) => x + 1 }),
      ]);
      engine.register(flow);
      const worker = createWorker({ store: workerStore, flows: [flow], pollMs: 20 });
      await worker.start();
      expect(queuesOf(engineStore)!.outbox.active).toBe(false);
      expect(await engine.run(flow, {}, { id: 'one' })).toEqual({ x: 1, y: 2 });
      expect(queuesOf(engineStore)!.outbox.active).toBe(true);
      expect(queuesOf(workerStore)!.outbox.active).toBe(true);
      await worker.close({ drain: true });
      expect(await admin.zcard(`{${prefix}}:outbox`)).toBe(0);
    } finally {
      await engine.close();
      await workerStore.close();
      await admin.quit();
      await server.stop();
    }
  });
});

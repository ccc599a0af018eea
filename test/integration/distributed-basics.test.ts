import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { compile, FlowFailedError, graph, linear, parallel, task } from '../../src/index.js';
import { queuesOf } from '../../src/store/redis-queues.js';
import { clusterTarget, ONE_REDIS, useDistributedHarness } from '../support/distributed-harness.js';
import { deferred, waitFor } from '../support/flows.js';

/**
 * Distributed execution's basic behaviour, on one Redis and on a test-owned 3-master Redis Cluster
 * (test/support/distributed-harness.ts): on the Cluster each run here is given an id whose keys are on
 * another master than the queue, so every step goes through the run's outbox. What only a Cluster has
 * (the outbox's crash cases) is in distributed-redis-cluster.test.ts.
 */
describe.each([ONE_REDIS, clusterTarget()])('distributed execution on $name', (target) => {
  const { setup } = useDistributedHarness(target);

  it('runs a linear flow on a worker, in order, and settles run.result in the starting engine', async () => {
    const { engine, worker, id: idFor, stores, admin, prefix, outboxLeft } = setup('dist-linear');
    const seen: string[] = [];
    const flow = linear('dist-linear', [
      task({
        name: 'a',
        provides: 'x',
        execute: (_: unknown, ctx) => {
          seen.push(`a ${ctx.flowId}`);
          return 2;
        },
      }),
      task({
        name: 'b',
        requires: ['x'],
        provides: 'y',
        execute: ({ x }: { x: number }) => {
          seen.push('b');
          return x * 3;
        },
      }),
    ]);
    const e = engine([flow]);
    const w = worker([flow]);
    await w.start();
    const id = await idFor('r1');
    const run = e.start(flow, {}, { id });
    const states: string[] = [];
    run.on('task', (ev) => states.push(`${ev.task} ${ev.state}`));
    expect(await run.result).toEqual({ x: 2, y: 6 });
    expect(run.status).toBe('SUCCESS');
    expect(seen).toEqual([`a ${id}`, 'b']);
    expect(states).toEqual(['a RUNNING', 'a SUCCESS', 'b RUNNING', 'b SUCCESS']);
    expect((await e.history(id)).map((ev) => `${ev.task ?? '[run]'} ${ev.state}`)).toEqual([
      '[run] RUNNING',
      'a RUNNING',
      'a SUCCESS',
      'b RUNNING',
      'b SUCCESS',
      '[run] SUCCESS',
    ]);
    await w.close({ drain: true });
    // On the Cluster the last entry's delete follows its relay without being waited for.
    await waitFor(async () => (await outboxLeft()).keys.length === 0, 2_000, 'the last entry deleted');
    expect(await outboxLeft()).toEqual({ registered: 0, keys: [] });
    // One Redis takes each step in one script (dispatchRun): no step is ever registered in the outbox.
    expect(stores.map((s) => queuesOf(s)!.outbox.active)).toEqual(stores.map(() => target.cluster));
    if (!target.cluster) expect(await admin.exists(`{${prefix}}:outbox`)).toBe(0);
  });

  it('reverts in reverse order across two workers after a failure', async () => {
    const { engine, worker, id } = setup('dist-revert');
    const log: string[] = [];
    const t = (name: string, requires: string[] = [], fail = false) =>
      task({
        name,
        requires,
        provides: name,
        execute: () => {
          log.push(name);
          if (fail) throw new Error(`${name} fails`);
          return name;
        },
        revert: () => {
          log.push(`${name} reverted`);
        },
      });
    const flow = graph('dist-graph', [t('a'), t('b', ['a']), t('c', ['a']), t('d', ['b', 'c'], true)]);
    const e = engine([flow]);
    for (const w of [worker([flow]), worker([flow])]) await w.start();
    const error = await e.run(flow, {}, { id: await id('revert') }).catch((x: Error) => x);
    expect(error).toBeInstanceOf(FlowFailedError);
    const at = (entry: string) => log.indexOf(entry);
    expect(log.filter((l) => !l.endsWith('reverted')).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(at('a')).toBeLessThan(Math.min(at('b'), at('c')));
    expect(at('d')).toBeGreaterThan(Math.max(at('b'), at('c')));
    expect(at('a reverted')).toBeGreaterThan(Math.max(at('b reverted'), at('c reverted')));
    expect(at('b reverted')).toBeGreaterThan(at('d'));
  });

  it('runs a wide flow (the spawned shape) on two workers: a retry after its backoff, then a failure reverting what ran', async () => {
    const { engine, worker, id } = setup('dist-wide');
    const log: string[] = [];
    const wide = (name: string, fail?: string) => {
      const t = (task_: string, requires: string[] = []) =>
        task({
          name: task_,
          requires,
          provides: task_,
          retry: task_ === 'm3' ? { attempts: 2, backoffMs: 20 } : { attempts: 1 },
          execute: (_: unknown, ctx) => {
            log.push(`${name} ${task_}`);
            if (task_ === fail || (task_ === 'm3' && ctx.attempt === 1)) throw new Error(`${task_} fails`);
            return task_;
          },
          revert: () => void log.push(`${name} ${task_} reverted`),
        });
      const middle = Array.from({ length: 12 }, (_, i) => `m${i}`);
      return graph(name, [t('start'), ...middle.map((m) => t(m, ['start'])), t('join', middle)]);
    };
    const ok = wide('dist-wide');
    const failing = wide('dist-wide-fail', 'm7');
    expect(compile(ok).shape).toBe('spawned');
    const e = engine([ok, failing]);
    for (const w of [worker([ok, failing]), worker([ok, failing])]) await w.start();

    const okId = await id('wide-ok');
    expect(Object.keys(await e.run(ok, {}, { id: okId }))).toHaveLength(14);
    const ran = log.filter((l) => l.startsWith('dist-wide ')).map((l) => l.slice('dist-wide '.length));
    expect(ran.filter((t) => t === 'm3')).toHaveLength(2);
    expect(new Set(ran).size).toBe(14);
    expect(ran).toHaveLength(15);
    expect(ran[0]).toBe('start');
    expect(ran.at(-1)).toBe('join');
    const m3 = (await e.history(okId)).filter((ev) => ev.task === 'm3').map((ev) => ev.state);
    expect(m3).toEqual(['RUNNING', 'RETRYING', 'RUNNING', 'SUCCESS']);

    const error = await e.run(failing, {}, { id: await id('wide-fail') }).catch((x: Error) => x);
    expect(error).toBeInstanceOf(FlowFailedError);
    const mine = log
      .filter((l) => l.startsWith('dist-wide-fail '))
      .map((l) => l.slice('dist-wide-fail '.length));
    const executed = mine.filter((l) => !l.endsWith('reverted'));
    const reverted = mine.filter((l) => l.endsWith('reverted')).map((l) => l.replace(' reverted', ''));
    expect(executed).not.toContain('join');
    // Every task that ran is reverted once (m3 after its retry too), the start last.
    expect([...new Set(reverted)].sort()).toEqual([...new Set(executed)].sort());
    expect(reverted).toHaveLength(new Set(reverted).size);
    expect(reverted.at(-1)).toBe('start');
  });

  it('retries a task after its stored backoff deadline', async () => {
    const { engine, worker, id: idFor, admin, prefix } = setup('dist-retry');
    const calls: number[] = [];
    const flow = linear('dist-retry', [
      task({
        name: 'flaky',
        provides: 'v',
        retry: { attempts: 3, backoffMs: 50 },
        execute: (_: unknown, ctx) => {
          calls.push(Date.now());
          if (ctx.attempt < 3) throw new Error('not yet');
          return ctx.attempt;
        },
      }),
    ]);
    const e = engine([flow]);
    const w = worker([flow]);
    await w.start();
    const id = await idFor('retry');
    expect(await e.run(flow, {}, { id })).toEqual({ v: 3 });
    expect(calls).toHaveLength(3);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(45);
    const states = (await e.history(id)).filter((ev) => ev.task).map((ev) => ev.state);
    expect(states.filter((s) => s === 'RETRYING')).toHaveLength(2);
    await w.close({ drain: true });
    // The deadline (on the Cluster, relayed to the deadlines' slot) is gone once the task ran again.
    expect(await admin.zcard(`{${prefix}}:timers`)).toBe(0);
  });

  it('routes tasks by queue: only workers of that queue take them', async () => {
    const { engine, worker, id } = setup('dist-route');
    const where: string[] = [];
    const flow = parallel('dist-route', [
      task({ name: 'cpu', execute: () => void where.push('cpu') }),
      task({ name: 'gpu', queue: 'gpu', execute: () => void where.push('gpu') }),
    ]);
    const e = engine([flow]);
    await worker([flow]).start();
    const run = e.start(flow, {}, { id: await id('route') });
    const states: string[] = [];
    run.on('task', (ev) => states.push(`${ev.task} ${ev.state}`));
    await new Promise<void>((resolve) =>
      run.on('task', (ev) => ev.task === 'cpu' && ev.state === 'SUCCESS' && resolve()),
    );
    expect(where).toEqual(['cpu']);
    expect(states).not.toContain('gpu SUCCESS');
    expect(run.status).toBe('RUNNING');
    const explained = await e.explain(run.id);
    expect(explained.waitingOn).toContainEqual(
      expect.objectContaining({ task: 'gpu', reason: 'running', unservedQueue: 'gpu' }),
    );
    expect(explained.text).toContain(
      "gpu: waits in queue gpu, which no live worker reads. Start a worker with queues: ['gpu'].",
    );
    await worker([flow], { queues: ['gpu'] }).start();
    await run.result;
    expect(where).toEqual(['cpu', 'gpu']);
  });

  it('a worker reading several queues holds no more tasks than its concurrency', async () => {
    const { engine, worker, id } = setup('dist-queues');
    let active = 0;
    let most = 0;
    const work = (name: string) =>
      task({
        name,
        queue: name,
        execute: async () => {
          most = Math.max(most, ++active);
          await new Promise((resolve) => setTimeout(resolve, 100));
          active -= 1;
        },
      });
    const flow = parallel('dist-two-queues', [work('a'), work('b'), work('c')]);
    const e = engine([flow]);
    // All three messages are in their queues before the worker's first read, which gets one per queue.
    const run = e.start(flow, {}, { id: await id('queues') });
    await waitFor(
      async () => (await e.history(run.id)).filter((ev) => ev.state === 'RUNNING' && ev.task).length === 3,
      5_000,
      'all three tasks dispatched',
    );
    await worker([flow], { queues: ['a', 'b', 'c'], concurrency: 1 }).start();
    await run.result;
    expect(most).toBe(1);
  });

  it.each([
    [2, 'two workers applying outcomes of one run at the same instant: one wins, the other applies again'],
    [1, 'one worker finishing tasks of one run at once applies them in turn, without conflicts'],
  ])('%i worker(s): %s; no lost update', async (count) => {
    const { engine, worker, id } = setup('dist-conflict');
    const gate = deferred();
    const width = 6;
    const flow = parallel(
      'dist-conflict',
      Array.from({ length: width }, (_, i) =>
        task({
          name: `p${i}`,
          provides: `v${i}`,
          execute: async () => {
            await gate.promise;
            return i;
          },
        }),
      ),
    );
    const e = engine([flow]);
    // With two workers each holds half the tasks (concurrency 3), so both write at once.
    const workers = Array.from({ length: count }, () => worker([flow], { concurrency: width / count }));
    let conflicts = 0;
    for (const w of workers) {
      w.on('conflict', () => conflicts++);
      await w.start();
    }
    const run = e.start(flow, {}, { id: await id('conflict') });
    const running = new Set<string>();
    await new Promise<void>((resolve) =>
      run.on('task', (ev) => {
        if (ev.state === 'RUNNING') running.add(ev.task);
        if (running.size === width) resolve();
      }),
    );
    // Every task is held by a worker; all finish in the same turn.
    gate.resolve();
    expect(await run.result).toEqual(
      Object.fromEntries(Array.from({ length: width }, (_, i) => [`v${i}`, i])),
    );
    // Two processes' writes conflict; one process's outcomes for a run are applied one after another,
    // each on the version the one before wrote.
    if (count === 2) expect(conflicts).toBeGreaterThan(0);
    else expect(conflicts).toBe(0);
    const history = await e.history(run.id);
    expect(history.filter((ev) => ev.state === 'SUCCESS' && ev.task)).toHaveLength(width);
  });

  it("a task's progress on a worker reaches run.on('progress') in the starting engine, with its details", async () => {
    const { engine, worker, id: idFor, admin, prefix } = setup('dist-progress');
    const gate = deferred();
    const heard = deferred();
    const flow = linear('dist-progress', [
      task({
        name: 'copy',
        execute: async (_: unknown, ctx) => {
          await gate.promise;
          ctx.progress(0.5, { copied: '5 GiB' });
          await heard.promise;
          // Many reports at once: a subscriber must get them in the order they were sent.
          for (let i = 11; i <= 20; i++) ctx.progress(i / 20);
          return 'done';
        },
      }),
    ]);
    const e = engine([flow]);
    await worker([flow]).start();
    const id = await idFor('p1');
    const run = e.start(flow, {}, { id });
    const progress: unknown[] = [];
    run.on('progress', (ev) => {
      progress.push(ev);
      heard.resolve();
    });
    // Progress is published, not stored: let the engine's subscription be in place first (on the
    // Cluster, on whichever node its connection is).
    const channel = `${prefix}:progress:${id}`;
    const nodes = target.cluster ? (admin as Cluster).nodes('master') : [admin as Redis];
    const subscribers = async () => {
      let n = 0;
      for (const node of nodes) n += ((await node.pubsub('NUMSUB', channel)) as [string, number])[1];
      return n;
    };
    await waitFor(async () => (await subscribers()) >= 1, 5_000, 'the engine subscribed');
    gate.resolve();
    await run.result;
    const sent = [
      { task: 'copy', fraction: 0.5, details: { copied: '5 GiB' } },
      ...Array.from({ length: 10 }, (_, i) => ({ task: 'copy', fraction: (i + 11) / 20 })),
    ];
    if (target.cluster) {
      // Reports cross the cluster bus to the subscriber's node, and the engine stops listening when the
      // run ends: the last ones may come too late (progress is a hint). What came, came in order.
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress).toEqual(sent.slice(0, progress.length));
    } else expect(progress).toEqual(sent);
    // The subscription ends with the run.
    await waitFor(async () => (await subscribers()) === 0, 5_000, 'the subscription ended');
  });
});

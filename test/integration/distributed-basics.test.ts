import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createWorker,
  type Engine,
  FlowFailedError,
  graph,
  linear,
  parallel,
  redisStore,
  type Store,
  task,
  type Worker,
} from '../../src/index.js';
import { queuesOf } from '../../src/store/redis-queues.js';
import { deferred } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';

const redis = newRedis();
const open: { engines: Engine[]; workers: Worker[]; stores: Store[]; prefixes: string[] } = {
  engines: [],
  workers: [],
  stores: [],
  prefixes: [],
};

afterEach(async () => {
  for (const w of open.workers.splice(0)) await w.close();
  for (const e of open.engines.splice(0)) await e.close();
  for (const s of open.stores.splice(0)) await s.close();
  for (const p of open.prefixes.splice(0)) await cleanPrefix(redis, p);
});

function setup(
  flows: Parameters<typeof createWorker>[0]['flows'],
  workers = 1,
  queues?: string[],
  concurrency?: number,
) {
  const prefix = testPrefix('dist');
  open.prefixes.push(prefix);
  const store = () => {
    const s = redisStore({ redis: REDIS_URL, prefix });
    open.stores.push(s);
    return s;
  };
  const engine = createEngine({
    store: store(),
    flows,
    execution: 'distributed',
    closeStore: false,
  } as never);
  open.engines.push(engine);
  const ws = Array.from({ length: workers }, () => {
    const w = createWorker({
      store: store(),
      flows,
      ...(queues ? { queues } : {}),
      ...(concurrency ? { concurrency } : {}),
    });
    open.workers.push(w);
    return w;
  });
  return { engine, workers: ws, prefix, store };
}

describe('distributed execution', () => {
  it('runs a linear flow on a worker and settles run.result in the starting engine', async () => {
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
      task({ name: 'b', requires: ['x'], provides: 'y', execute: ({ x }: { x: number }) => x * 3 }),
    ]);
    const { engine, workers } = setup([flow]);
    await workers[0]!.start();
    const run = engine.start(flow, {}, { id: 'r1' });
    const states: string[] = [];
    run.on('task', (e) => states.push(`${e.task} ${e.state}`));
    expect(await run.result).toEqual({ x: 2, y: 6 });
    expect(run.status).toBe('SUCCESS');
    expect(seen).toEqual(['a r1']);
    expect(states).toEqual(['a RUNNING', 'a SUCCESS', 'b RUNNING', 'b SUCCESS']);
    const history = await engine.history('r1');
    expect(history.map((e) => `${e.task ?? '[run]'} ${e.state}`)).toEqual([
      '[run] RUNNING',
      'a RUNNING',
      'a SUCCESS',
      'b RUNNING',
      'b SUCCESS',
      '[run] SUCCESS',
    ]);
  });

  it('reverts in reverse order across two workers after a failure', async () => {
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
    const { engine, workers } = setup([flow], 2);
    for (const w of workers) await w.start();
    const error = await engine.run(flow).catch((e: Error) => e);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(log.indexOf('a reverted')).toBeGreaterThan(log.indexOf('b reverted'));
    expect(log.indexOf('a reverted')).toBeGreaterThan(log.indexOf('c reverted'));
    expect(log.filter((l) => l === 'a')).toHaveLength(1);
  });

  it('retries a task after its stored backoff deadline', async () => {
    let calls = 0;
    const flow = linear('dist-retry', [
      task({
        name: 'flaky',
        provides: 'v',
        retry: { attempts: 3, backoffMs: 20 },
        execute: (_: unknown, ctx) => {
          calls++;
          if (ctx.attempt < 3) throw new Error('not yet');
          return ctx.attempt;
        },
      }),
    ]);
    const { engine, workers } = setup([flow]);
    await workers[0]!.start();
    expect(await engine.run(flow)).toEqual({ v: 3 });
    expect(calls).toBe(3);
  });

  it('on one Redis takes each step in one script (dispatchRun): no outbox entry, no outbox index', async () => {
    const flow = linear('dist-one-script', [
      task({ name: 'a', provides: 'x', execute: () => 1 }),
      task({ name: 'b', requires: ['x'], provides: 'y', execute: ({ x }: { x: number }) => x + 1 }),
    ]);
    const { engine, workers, prefix } = setup([flow]);
    await workers[0]!.start();
    expect(await engine.run(flow)).toEqual({ x: 1, y: 2 });
    expect(queuesOf(open.stores[0]!)!.outbox.active).toBe(false);
    expect(queuesOf(open.stores[1]!)!.outbox.active).toBe(false);
    // No step was registered in the outbox index (a registration creates it).
    expect(await redis.exists(`{${prefix}}:outbox`)).toBe(0);
  });

  it('routes tasks by queue: only workers of that queue take them', async () => {
    const where: string[] = [];
    const flow = parallel('dist-route', [
      task({
        name: 'cpu',
        execute: () => {
          where.push(`cpu@${process.pid}`);
        },
      }),
      task({
        name: 'gpu',
        queue: 'gpu',
        execute: () => {
          where.push('gpu');
        },
      }),
    ]);
    const { engine, workers } = setup([flow], 1);
    await workers[0]!.start();
    const run = engine.start(flow);
    const states: string[] = [];
    run.on('task', (e) => states.push(`${e.task} ${e.state}`));
    await new Promise((r) => setTimeout(r, 300));
    expect(states).toContain('cpu SUCCESS');
    expect(states).not.toContain('gpu SUCCESS');
    expect(run.status).toBe('RUNNING');
    const explained = await engine.explain(run.id);
    expect(explained.waitingOn).toContainEqual(
      expect.objectContaining({ task: 'gpu', reason: 'running', unservedQueue: 'gpu' }),
    );
    expect(explained.text).toContain(
      "gpu: waits in queue gpu, which no live worker reads. Start a worker with queues: ['gpu'].",
    );
    const gpu = createWorker({ store: open.stores[0] as Store, flows: [flow], queues: ['gpu'] });
    open.workers.push(gpu);
    await gpu.start();
    await run.result;
    expect(where.sort()).toEqual([`cpu@${process.pid}`, 'gpu']);
  });

  it('a worker reading several queues holds no more tasks than its concurrency', async () => {
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
    const { engine, workers } = setup([flow], 1, ['a', 'b', 'c'], 1);
    // All three messages are in their queues before the worker's first read, which gets one per queue.
    const run = engine.start(flow);
    await engine.history(run.id);
    await workers[0]!.start();
    await run.result;
    expect(most).toBe(1);
  });

  it.each([
    [2, 'two workers applying outcomes of one run at the same instant: one wins, the other applies again'],
    [1, 'one worker finishing tasks of one run at once applies them in turn, without conflicts'],
  ])('%i worker(s): %s; no lost update', async (count) => {
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
    // Each of two workers holds half the tasks (concurrency 3), so both write at once.
    const { engine, workers } = setup([flow], count, undefined, width / count);
    let conflicts = 0;
    for (const w of workers) {
      w.on('conflict', () => conflicts++);
      await w.start();
    }
    const run = engine.start(flow);
    const running = new Set<string>();
    await new Promise<void>((resolve) =>
      run.on('task', (e) => {
        if (e.state === 'RUNNING') running.add(e.task);
        if (running.size === width) resolve();
      }),
    );
    // Every task is held by a worker; all finish in the same turn.
    gate.resolve();
    const results = await run.result;
    expect(results).toEqual(Object.fromEntries(Array.from({ length: width }, (_, i) => [`v${i}`, i])));
    // Two processes' writes conflict; one process's outcomes for a run are applied one after another,
    // each on the version the one before wrote.
    if (count === 2) expect(conflicts).toBeGreaterThan(0);
    else expect(conflicts).toBe(0);
    const history = await engine.history(run.id);
    expect(history.filter((e) => e.state === 'SUCCESS' && e.task)).toHaveLength(width);
  });

  it("a task's progress on a worker reaches run.on('progress') in the starting engine, with its details", async () => {
    const gate = deferred();
    const flow = linear('dist-progress', [
      task({
        name: 'copy',
        execute: async (_: unknown, ctx) => {
          await gate.promise;
          ctx.progress(0.5, { copied: '5 GiB' });
          ctx.progress(1);
          return 'done';
        },
      }),
    ]);
    const { engine, workers, prefix } = setup([flow]);
    await workers[0]!.start();
    const run = engine.start(flow, {}, { id: 'p1' });
    const progress: unknown[] = [];
    run.on('progress', (e) => progress.push(e));
    // Progress is published, not stored: let the engine's subscription be in place first.
    const channel = `${prefix}:progress:p1`;
    while (((await redis.pubsub('NUMSUB', channel)) as [string, number])[1] < 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    gate.resolve();
    await run.result;
    expect(progress).toEqual([
      { task: 'copy', fraction: 0.5, details: { copied: '5 GiB' } },
      { task: 'copy', fraction: 1 },
    ]);
    // The subscription ends with the run.
    while (((await redis.pubsub('NUMSUB', channel)) as [string, number])[1] > 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
});

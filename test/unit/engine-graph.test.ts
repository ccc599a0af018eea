import { describe, expect, it } from 'vitest';
import { FlowFailedError, graph, linear, NotSerializableError, parallel, task } from '../../src/index.js';
import { deferred, failing, newEngine, rejectionOf, saving, taskStates } from './engine-support.js';

// Ports of TaskFlow's EngineGraphFlowTest, EngineParallelFlowTest and deciders tests (test_engines.py,
// test_deciders.py), plus concurrency proved with latches.
describe('graph flows', () => {
  it('order tasks by requires/provides, whatever the order they are given in', async () => {
    const log: string[] = [];
    const flow = graph('chain', [
      saving(log, 'task4', { requires: 'c' }),
      saving(log, 'task3', { requires: 'b', provides: 'c' }),
      saving(log, 'task2', { requires: 'a', provides: 'b' }),
      saving(log, 'task1', { provides: 'a' }),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['task1', 'task2', 'task3', 'task4']);
  });

  it('run a diamond: the join after both branches', async () => {
    const log: string[] = [];
    const flow = graph('diamond', [
      saving(log, 'd', { requires: ['b', 'c'] }),
      saving(log, 'b', { requires: 'a', provides: 'b' }),
      saving(log, 'c', { requires: 'a', provides: 'c' }),
      saving(log, 'a', { provides: 'a' }),
    ]);
    await newEngine().run(flow);
    expect(log[0]).toBe('a');
    expect(log.slice(1, 3).sort()).toEqual(['b', 'c']);
    expect(log[3]).toBe('d');
  });

  it('order by explicit links when no data links the tasks', async () => {
    const log: string[] = [];
    const flow = graph('linked', [saving(log, 'x'), saving(log, 'y'), saving(log, 'z')], {
      links: [
        ['z', 'y'],
        ['y', 'x'],
      ],
    });
    await newEngine().run(flow);
    expect(log).toEqual(['z', 'y', 'x']);
  });

  it('order nested flows by what their tasks provide', async () => {
    const log: string[] = [];
    const flow = graph('outer', [
      linear('consumer', [saving(log, 'c1', { requires: 'p' }), saving(log, 'c2')]),
      linear('producer', [saving(log, 'p1'), saving(log, 'p2', { provides: 'p' })]),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['p1', 'p2', 'c1', 'c2']);
  });

  it('revert a diamond in reverse dependency order', async () => {
    const log: string[] = [];
    const flow = graph('diamond', [
      failing(log, 'd', { requires: ['b', 'c'] }),
      saving(log, 'b', { requires: 'a', provides: 'b' }),
      saving(log, 'c', { requires: 'a', provides: 'c' }),
      saving(log, 'a', { provides: 'a' }),
    ]);
    await rejectionOf(newEngine().run(flow));
    const reverts = log.filter((l) => l.endsWith('reverted'));
    expect(reverts[0]).toBe('d reverted');
    expect(reverts.slice(1, 3).sort()).toEqual(['b reverted', 'c reverted']);
    expect(reverts[3]).toBe('a reverted');
  });

  it('store each of several provides from the fields of one result', async () => {
    const seen: unknown[] = [];
    const flow = graph('multi', [
      task({ name: 'both', provides: ['a', 'b'], execute: () => ({ a: 1, b: 'two', extra: true }) }),
      task({ name: 'useA', requires: 'a', execute: ({ a }) => void seen.push(['a', a]) }),
      task({ name: 'useB', requires: 'b', provides: 'c', execute: ({ b }) => `${b}!` }),
    ]);
    const results = await newEngine().run(flow);
    expect(seen).toEqual([['a', 1]]);
    expect(results).toEqual({ a: 1, b: 'two', c: 'two!' });
  });

  it('fail a task with several provides whose result is not an object', async () => {
    const flow = graph('multi-bad', [task({ name: 'both', provides: ['a', 'b'], execute: () => 42 })]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(error.cause).toBeInstanceOf(NotSerializableError);
    expect((error.cause as Error).message).toMatch(/`both`/);
  });

  it('fail a task with several provides whose result lacks one of them', async () => {
    const flow = graph('multi-missing', [
      task({ name: 'both', provides: ['a', 'b'], execute: () => ({ a: 1 }) }),
      task({ name: 'useB', requires: 'b', execute: ({ b }) => b }),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error as FlowFailedError).failures[0]?.task).toBe('both');
    expect((error.cause as Error).message).toMatch(/`b`/);
  });
});

describe('deciders', () => {
  it('run the target when the decider says yes, passing it the results of the link source', async () => {
    const log: string[] = [];
    const histories: unknown[] = [];
    const flow = graph('decide-yes', [saving(log, 'a', { value: { go: true } }), saving(log, 'b')], {
      links: [
        [
          'a',
          'b',
          (history) => {
            histories.push(history);
            return true;
          },
        ],
      ],
    });
    await newEngine().run(flow);
    expect(log).toEqual(['a', 'b']);
    expect(histories).toEqual([{ a: { go: true } }]);
  });

  it('mark the target and what only it leads to IGNORED when the decider says no', async () => {
    const log: string[] = [];
    const flow = graph(
      'decide-no',
      [
        saving(log, 'a', { provides: 'a' }),
        saving(log, 'b', { provides: 'b' }),
        saving(log, 'c', { requires: 'b', provides: 'c' }), // only through b: ignored
        saving(log, 'd', { requires: 'a' }), // not through b: runs
        saving(log, 'e', { optional: 'b', requires: 'a' }), // through b, but b is optional and a ran
      ],
      { links: [['a', 'b', () => false]] },
    );
    const run = newEngine().start(flow);
    const states = taskStates(run);
    const results = await run.result;
    expect(log.sort()).toEqual(['a', 'd', 'e']);
    expect(states).toContain('b IGNORED');
    expect(states).toContain('c IGNORED');
    expect(states).not.toContain('b RUNNING');
    expect(results).toEqual({ a: 'a' });
    expect(run.status).toBe('SUCCESS');
  });

  it('ignore a whole nested flow behind a decider', async () => {
    const log: string[] = [];
    const flow = graph(
      'decide-flow',
      [saving(log, 'check', { value: 'stop' }), linear('work', [saving(log, 'w1'), saving(log, 'w2')])],
      { links: [['check', 'work', (h) => h.check !== 'stop']] },
    );
    const run = newEngine().start(flow);
    const states = taskStates(run);
    await run.result;
    expect(log).toEqual(['check']);
    expect(states).toEqual(expect.arrayContaining(['w1 IGNORED', 'w2 IGNORED']));
  });

  it('do not revert ignored tasks when the run fails later', async () => {
    const log: string[] = [];
    const flow = graph('decide-then-fail', [saving(log, 'a'), saving(log, 'skipped'), failing(log, 'boom')], {
      links: [
        ['a', 'skipped', () => false],
        ['a', 'boom'],
      ],
    });
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['a', 'boom', 'boom reverted', 'a reverted']);
  });
});

describe('parallel flows and concurrency', () => {
  it('run parallel siblings at once (each waits on the other: deadlocks if not parallel)', async () => {
    const aStarted = deferred();
    const bStarted = deferred();
    const flow = parallel('together', [
      task({
        name: 'a',
        provides: 'a',
        async execute() {
          aStarted.resolve();
          await bStarted.promise;
          return 'a';
        },
      }),
      task({
        name: 'b',
        provides: 'b',
        async execute() {
          bStarted.resolve();
          await aStarted.promise;
          return 'b';
        },
      }),
    ]);
    expect(await newEngine().run(flow)).toEqual({ a: 'a', b: 'b' });
  });

  it('run independent branches of a graph at once', async () => {
    const latches = { left: deferred(), right: deferred() };
    const flow = graph('branches', [
      task({ name: 'root', provides: 'r', execute: () => 1 }),
      task({
        name: 'left',
        requires: 'r',
        async execute() {
          latches.left.resolve();
          await latches.right.promise;
        },
      }),
      task({
        name: 'right',
        requires: 'r',
        async execute() {
          latches.right.resolve();
          await latches.left.promise;
        },
      }),
    ]);
    await newEngine().run(flow);
  });

  it('never run more tasks at once than the concurrency limit', async () => {
    const names = ['t1', 't2', 't3', 't4', 't5'];
    const gates = new Map(names.map((n) => [n, deferred()]));
    const started: string[] = [];
    const startWaiters: { count: number; resolve: () => void }[] = [];
    let inflight = 0;
    let maxInflight = 0;
    const flow = parallel(
      'limited',
      names.map((name) =>
        task({
          name,
          async execute() {
            inflight += 1;
            maxInflight = Math.max(maxInflight, inflight);
            started.push(name);
            for (const w of startWaiters.filter((w) => started.length >= w.count)) w.resolve();
            await gates.get(name)!.promise;
            inflight -= 1;
          },
        }),
      ),
    );
    const startedCount = (count: number) =>
      started.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => startWaiters.push({ count, resolve }));
    const run = newEngine({ concurrency: 2 }).start(flow);
    // Release the oldest running task each time the limit is reached; a third start while two are held
    // would show in maxInflight.
    for (let i = 0; i < names.length; i++) {
      await startedCount(Math.min(i + 2, names.length));
      gates.get(started[i]!)!.resolve();
    }
    await run.result;
    expect(maxInflight).toBe(2);
    expect(started.sort()).toEqual(names);
  });

  it('let a run override the engine concurrency', async () => {
    const a = deferred();
    const b = deferred();
    const flow = parallel('override', [
      task({
        name: 'a',
        async execute() {
          a.resolve();
          await b.promise;
        },
      }),
      task({
        name: 'b',
        async execute() {
          b.resolve();
          await a.promise;
        },
      }),
    ]);
    // The engine allows 1 at a time (would deadlock); the run allows 2.
    await newEngine({ concurrency: 1 }).run(flow, {}, { concurrency: 2 });
  });

  it('with concurrency 1, run parallel siblings one at a time in definition order', async () => {
    const log: string[] = [];
    const flow = parallel('serial', [saving(log, 'p1'), saving(log, 'p2'), saving(log, 'p3')]);
    await newEngine({ concurrency: 1 }).run(flow);
    expect(log).toEqual(['p1', 'p2', 'p3']);
  });

  it('let a running sibling finish (not aborted) before reverting it when another fails', async () => {
    const log: string[] = [];
    const gate = deferred();
    let signal: AbortSignal | undefined;
    const flow = parallel('sibling-fails', [
      task({
        name: 'slow',
        async execute(_args, ctx) {
          signal = ctx.signal;
          await gate.promise;
          log.push('slow done');
        },
        revert: () => void log.push('slow reverted'),
      }),
      failing(log, 'fail'),
    ]);
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'fail' && e.state === 'REVERTED' && gate.resolve());
    await rejectionOf(run.result);
    expect(signal?.aborted).toBe(false);
    expect(log).toEqual(['fail', 'fail reverted', 'slow done', 'slow reverted']);
  });
});

import { describe, expect, it } from 'vitest';
import { FlowFailedError, graph, linear, parallel, task } from '../../src/index.js';
import { deferred, failing, newEngine, rejectionOf, saving, taskStates } from './engine-support.js';

// Ports of TaskFlow's EngineLinearFlowTest and nested-flow cases (test_engines.py).
describe('linear flows', () => {
  it('run one task', async () => {
    const log: string[] = [];
    const results = await newEngine().run(linear('one', [saving(log, 'task1', { provides: 'a', value: 5 })]));
    expect(log).toEqual(['task1']);
    expect(results).toEqual({ a: 5 });
  });

  it('run tasks in the order given, even when nothing links them', async () => {
    const log: string[] = [];
    const flow = linear(
      'seq',
      ['task1', 'task2', 'task3', 'task4'].map((name) => saving(log, name)),
    );
    await newEngine().run(flow);
    expect(log).toEqual(['task1', 'task2', 'task3', 'task4']);
  });

  it('run each task only after the previous one finished', async () => {
    const log: string[] = [];
    const gate = deferred();
    const flow = linear('gated', [
      task({
        name: 'slow',
        async execute() {
          await gate.promise;
          log.push('slow done');
        },
      }),
      saving(log, 'next'),
    ]);
    const run = newEngine().start(flow);
    // `slow` is running and blocked; `next` must not have started.
    await new Promise<void>((resolve) =>
      run.on('task', (e) => e.task === 'slow' && e.state === 'RUNNING' && resolve()),
    );
    expect(log).toEqual([]);
    gate.resolve();
    await run.result;
    expect(log).toEqual(['slow done', 'next']);
  });

  it('pass results from one task to the next', async () => {
    const flow = linear('pipe', [
      task({ name: 'make', provides: 'x', execute: () => 2 }),
      task({ name: 'double', requires: 'x', provides: 'y', execute: ({ x }) => x * 2 }),
      task({ name: 'add', requires: ['x', 'y'], provides: 'z', execute: ({ x, y }) => x + y }),
    ]);
    expect(await newEngine().run(flow)).toEqual({ x: 2, y: 4, z: 6 });
  });

  it('revert what ran, in reverse order, when a task fails; tasks after it never run', async () => {
    const log: string[] = [];
    const flow = linear('fails', [
      saving(log, 'task1'),
      saving(log, 'task2'),
      failing(log, 'fail'),
      saving(log, 'never'),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(error.message).toMatch(/fail.*Woot fail/);
    expect((error as FlowFailedError).failures.map((f) => f.task)).toEqual(['fail']);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe('Woot fail');
    expect(log).toEqual(['task1', 'task2', 'fail', 'fail reverted', 'task2 reverted', 'task1 reverted']);
  });

  it('revert the failing task itself even when it is the first', async () => {
    const log: string[] = [];
    const flow = linear('first-fails', [failing(log, 'fail'), saving(log, 'never')]);
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['fail', 'fail reverted']);
  });

  it('end REVERTED with tasks that have no revert', async () => {
    const log: string[] = [];
    const flow = linear('no-revert', [
      task({ name: 'plain', execute: () => void log.push('plain') }),
      failing(log, 'fail'),
    ]);
    const run = newEngine().start(flow);
    await rejectionOf(run.result);
    expect(run.status).toBe('REVERTED');
    expect(log).toEqual(['plain', 'fail', 'fail reverted']);
  });
});

describe('nested flows', () => {
  it('run a linear flow nested in a linear flow in order', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      saving(log, 'task1'),
      linear('inner', [saving(log, 'task2'), saving(log, 'task3')]),
      saving(log, 'task4'),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['task1', 'task2', 'task3', 'task4']);
  });

  it('revert a nested failure through the outer flow, in reverse order', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      saving(log, 'task1'),
      linear('inner', [saving(log, 'task2'), failing(log, 'fail'), saving(log, 'never1')]),
      saving(log, 'never2'),
    ]);
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['task1', 'task2', 'fail', 'fail reverted', 'task2 reverted', 'task1 reverted']);
  });

  it('run a parallel flow nested in a linear one between its neighbours', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      saving(log, 'first'),
      parallel('middle', [saving(log, 'p1'), saving(log, 'p2'), saving(log, 'p3')]),
      saving(log, 'last'),
    ]);
    await newEngine().run(flow);
    expect(log[0]).toBe('first');
    expect(log.slice(1, 4).sort()).toEqual(['p1', 'p2', 'p3']);
    expect(log[4]).toBe('last');
  });

  it('order a graph nested in a linear flow after its predecessor and before its successor', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      saving(log, 'first'),
      graph('middle', [
        saving(log, 'c', { requires: 'b' }),
        saving(log, 'b', { provides: 'b', requires: 'a' }),
        saving(log, 'a', { provides: 'a' }),
      ]),
      saving(log, 'last'),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['first', 'a', 'b', 'c', 'last']);
  });

  it('revert a linear flow nested in a parallel one, each branch in its own reverse order', async () => {
    const log: string[] = [];
    const gate = deferred();
    const flow = parallel('outer', [
      linear('ok', [saving(log, 'a1'), saving(log, 'a2')]),
      linear('bad', [
        task({
          name: 'b1',
          async execute() {
            await gate.promise; // fail only once the other branch has finished
            log.push('b1');
            throw new Error('Woot b1');
          },
          revert: () => void log.push('b1 reverted'),
        }),
      ]),
    ]);
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'a2' && e.state === 'SUCCESS' && gate.resolve());
    await rejectionOf(run.result);
    // The branches revert at once: only each branch's own order is defined.
    expect(log.slice(0, 3)).toEqual(['a1', 'a2', 'b1']);
    expect(log.slice(3).filter((e) => e.startsWith('a'))).toEqual(['a2 reverted', 'a1 reverted']);
    expect(log.slice(3).filter((e) => e.startsWith('b'))).toEqual(['b1 reverted']);
  });
});

describe('run status and events', () => {
  it('report task events in order, with results and errors', async () => {
    const log: string[] = [];
    const flow = linear('events', [saving(log, 'task1', { provides: 'a', value: 1 }), failing(log, 'fail')]);
    const run = newEngine().start(flow);
    const events: unknown[] = [];
    run.on('task', (e) => events.push({ ...e }));
    await rejectionOf(run.result);
    expect(events.map((e: any) => `${e.task} ${e.state}`)).toEqual([
      'task1 RUNNING',
      'task1 SUCCESS',
      'fail RUNNING',
      'fail FAILURE',
      'fail REVERTING',
      'fail REVERTED',
      'task1 REVERTING',
      'task1 REVERTED',
    ]);
    expect(events[1]).toMatchObject({ task: 'task1', state: 'SUCCESS', attempt: 1, result: 1 });
    expect((events[3] as any).error).toBeInstanceOf(Error);
    expect((events[3] as any).error.message).toBe('Woot fail');
  });

  it('report the flow states RUNNING then SUCCESS, and status SUCCESS at the end', async () => {
    const log: string[] = [];
    const run = newEngine().start(linear('ok', [saving(log, 'task1')]));
    expect(run.status).toBe('PENDING');
    const flowStates: string[] = [];
    run.on('flow', (e) => flowStates.push(e.state));
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(flowStates[0]).toBe('RUNNING');
    expect(flowStates.at(-1)).toBe('SUCCESS');
  });

  it('report REVERTING then REVERTED for a failed run', async () => {
    const log: string[] = [];
    const run = newEngine().start(linear('bad', [saving(log, 'task1'), failing(log, 'fail')]));
    const flowStates: string[] = [];
    run.on('flow', (e) => flowStates.push(e.state));
    await rejectionOf(run.result);
    expect(run.status).toBe('REVERTED');
    expect(flowStates).toContain('REVERTING');
    expect(flowStates.at(-1)).toBe('REVERTED');
  });

  it('show RUNNING while a task runs', async () => {
    const gate = deferred();
    const started = deferred();
    const run = newEngine().start(
      linear('waiting', [
        task({
          name: 'wait',
          async execute() {
            started.resolve();
            await gate.promise;
          },
        }),
      ]),
    );
    await started.promise;
    expect(run.status).toBe('RUNNING');
    gate.resolve();
    await run.result;
    expect(run.status).toBe('SUCCESS');
  });

  it('never cause an unhandled rejection for a failed run nobody awaits', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const log: string[] = [];
      const run = newEngine().start(linear('ignored', [failing(log, 'fail')]));
      const states = taskStates(run);
      // Wait for the end through events, never touching run.result.
      await new Promise<void>((resolve) => run.on('flow', (e) => e.state === 'REVERTED' && resolve()));
      // The end is reported once durable: wait (without a handler on run.result) until it settled, then
      // one more macrotask so that Node's unhandled-rejection check has run.
      while (!run.isSettled) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(states).toContain('fail REVERTED');
      expect(unhandled).toEqual([]);
      await expect(run.result).rejects.toBeInstanceOf(FlowFailedError); // awaiting it still throws
    } finally {
      process.off('unhandledRejection', listener);
    }
  });
});

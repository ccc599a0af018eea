import { describe, expect, it } from 'vitest';
import { type FlowFailedError, graph, linear, parallel, RevertFailedError, task } from '../../src/index.js';
import { deferred, failing, newEngine, rejectionOf, saving, taskStates } from './engine-support.js';

// Ports of TaskFlow's revert cases (test_engines.py: test_revert_*, test_nasty_revert, failure arguments).
describe('what revert receives', () => {
  it('its arguments, its stored result and the failures of the run', async () => {
    const received: Record<string, unknown>[] = [];
    const flow = linear('args', [
      task({
        name: 'alloc',
        requires: 'size',
        provides: 'id',
        execute: ({ size }) => ({ id: `vol-${size}`, size }),
        revert: (args) => void received.push({ ...args }),
      }),
      task({
        name: 'boom',
        requires: 'id',
        execute: () => {
          throw new TypeError('bad id');
        },
        revert: (args) => void received.push({ ...args }),
      }),
    ]);
    await rejectionOf(newEngine().run(flow, { size: 3 }));
    expect(received).toHaveLength(2);
    const [boom, alloc] = received as [Record<string, any>, Record<string, any>];

    // The failed task: its arguments, no result, its own error, the run's failures.
    expect(boom.id).toEqual({ id: 'vol-3', size: 3 });
    expect(boom.result).toBeUndefined();
    expect(boom.error).toBeInstanceOf(Error);
    expect(boom.error.name).toBe('TypeError');
    expect(boom.error.message).toBe('bad id');
    expect(Object.keys(boom.flowFailures)).toEqual(['boom']);
    expect(boom.flowFailures.boom.message).toBe('bad id');

    // The task that succeeded: its arguments, its result, no error of its own.
    expect(alloc.size).toBe(3);
    expect(alloc.result).toEqual({ id: 'vol-3', size: 3 });
    expect('error' in alloc).toBe(false);
    expect(alloc.flowFailures.boom.message).toBe('bad id');
  });

  it('flowFailures lists every failure when parallel tasks fail', async () => {
    const both = { a: deferred(), b: deferred() };
    let seen: Record<string, Error> | undefined;
    const flow = linear('two-fail', [
      task({
        name: 'first',
        execute: () => 1,
        revert: ({ flowFailures }) => {
          seen = flowFailures;
        },
      }),
      parallel('p', [
        task({
          name: 'a',
          async execute() {
            both.a.resolve();
            await both.b.promise;
            throw new Error('a broke');
          },
        }),
        task({
          name: 'b',
          async execute() {
            both.b.resolve();
            await both.a.promise;
            throw new Error('b broke');
          },
        }),
      ]),
    ]);
    const error = (await rejectionOf(newEngine().run(flow))) as FlowFailedError;
    expect(error.failures.map((f) => f.task).sort()).toEqual(['a', 'b']);
    expect(Object.keys(seen ?? {}).sort()).toEqual(['a', 'b']);
    expect(seen?.a?.message).toBe('a broke');
  });

  it('the ctx of the task (name, flowId, signal, idempotency key of its execution)', async () => {
    const keys: string[] = [];
    let revertCtx: { taskName: string; flowId: string; aborted: boolean } | undefined;
    const flow = linear('ctx', [
      task({
        name: 'first',
        execute: (_args, ctx) => void keys.push(ctx.idempotencyKey),
        revert: (_args, ctx) => {
          keys.push(ctx.idempotencyKey);
          revertCtx = { taskName: ctx.taskName, flowId: ctx.flowId, aborted: ctx.signal.aborted };
        },
      }),
      failing([], 'fail'),
    ]);
    await rejectionOf(newEngine().run(flow, {}, { id: 'run-ctx' }));
    expect(revertCtx).toEqual({ taskName: 'first', flowId: 'run-ctx', aborted: false });
    expect(keys[0]).toBe(keys[1]);
  });
});

describe('a revert that throws', () => {
  it('ends the run FAILURE with RevertFailedError; what the failing revert depends on is not reverted', async () => {
    const log: string[] = [];
    const flow = linear('nasty-flow', [
      saving(log, 'task1'),
      task({
        name: 'nasty',
        execute: () => void log.push('nasty'),
        revert: () => {
          log.push('nasty revert');
          throw new Error('Gotcha!');
        },
      }),
      saving(log, 'task3'),
      failing(log, 'fail'),
    ]);
    const run = newEngine().start(flow);
    const states = taskStates(run);
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(RevertFailedError);
    const failed = error as RevertFailedError;
    expect(failed.revertFailures.map((f) => f.task)).toEqual(['nasty']);
    expect(failed.revertFailures[0]?.error.message).toBe('Gotcha!');
    expect(failed.failures.map((f) => f.task)).toEqual(['fail']);
    expect(failed.message).toMatch(/nasty.*Gotcha!/);
    expect(run.status).toBe('FAILURE');
    expect(log).toEqual([
      'task1',
      'nasty',
      'task3',
      'fail',
      'fail reverted',
      'task3 reverted',
      'nasty revert',
    ]);
    expect(states).toContain('nasty REVERT_FAILURE');
    expect(states).not.toContain('task1 REVERTING');
  });

  it('still lets independent branches revert', async () => {
    const log: string[] = [];
    const flow = graph('branches', [
      saving(log, 'root', { provides: 'r' }),
      task({
        name: 'nasty',
        requires: 'r',
        provides: 'n',
        execute: () => void log.push('nasty'),
        revert: () => {
          throw new Error('Gotcha!');
        },
      }),
      saving(log, 'other', { requires: 'r', provides: 'o' }),
      failing(log, 'fail', { requires: ['n', 'o'] }),
    ]);
    const run = newEngine().start(flow);
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(RevertFailedError);
    expect(log).toContain('other reverted');
    expect(log).not.toContain('root reverted');
    expect(run.status).toBe('FAILURE');
  });

  it('is reported as a REVERT_FAILURE task event with the error', async () => {
    const flow = linear('nasty-event', [
      task({
        name: 'nasty',
        execute: () => 1,
        revert: () => {
          throw new Error('Gotcha!');
        },
      }),
      failing([], 'fail'),
    ]);
    const run = newEngine().start(flow);
    const errors: Error[] = [];
    run.on('task', (e) => e.state === 'REVERT_FAILURE' && e.error && errors.push(e.error));
    await rejectionOf(run.result);
    expect(errors.map((e) => e.message)).toEqual(['Gotcha!']);
  });
});

describe('reverse order', () => {
  it('reverts a linear flow of many tasks strictly backwards', async () => {
    const log: string[] = [];
    const names = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const flow = linear('many', [...names.map((n) => saving(log, n)), failing(log, 'fail')]);
    await rejectionOf(newEngine().run(flow));
    expect(log.filter((l) => l.endsWith('reverted'))).toEqual([
      'fail reverted',
      ...names.map((n) => `${n} reverted`).reverse(),
    ]);
  });

  it('reverts a task only after every task depending on it is reverted', async () => {
    const log: string[] = [];
    const gate = deferred();
    const flow = graph('fan', [
      saving(log, 'root', { provides: 'r' }),
      task({
        name: 'slowChild',
        requires: 'r',
        async execute() {
          log.push('slowChild');
        },
        async revert() {
          await gate.promise; // its parent must wait for this revert
          log.push('slowChild reverted');
        },
      }),
      failing(log, 'fail', { requires: 'r' }),
    ]);
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'fail' && e.state === 'REVERTED' && gate.resolve());
    await rejectionOf(run.result);
    expect(log.indexOf('root reverted')).toBeGreaterThan(log.indexOf('slowChild reverted'));
    expect(log.indexOf('root reverted')).toBeGreaterThan(log.indexOf('fail reverted'));
  });

  it('does not revert tasks that never ran', async () => {
    const log: string[] = [];
    const flow = graph('partial', [
      failing(log, 'fail', { provides: 'f' }),
      saving(log, 'after', { requires: 'f' }),
      saving(log, 'independent'),
    ]);
    const run = newEngine().start(flow);
    const states = taskStates(run);
    await rejectionOf(run.result);
    expect(log).not.toContain('after');
    expect(states.filter((s) => s.startsWith('after'))).toEqual([]);
    expect(log).toContain('independent reverted');
  });
});

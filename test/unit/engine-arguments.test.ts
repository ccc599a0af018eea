import { describe, expect, it } from 'vitest';
import { graph, linear, MissingInputsError, type ProgressEvent, task } from '../../src/index.js';
import { distributedMode, newEngine, thrownBy } from './engine-support.js';

// Ports of TaskFlow's ArgumentsPassingTest (test_arguments_passing.py).

/** A task that records the arguments it was called with. */
function recorder(seen: Record<string, unknown>[], name: string, options: Record<string, unknown> = {}) {
  return task({
    name,
    ...options,
    execute: (args) => {
      seen.push({ ...args });
      return `${name} result`;
    },
  });
}

describe('argument passing', () => {
  it('passes required arguments from the run inputs; extra inputs are ignored', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('inputs', [recorder(seen, 'sum', { requires: ['x', 'y'] })]);
    await newEngine().run(flow, { x: 1, y: 2, unused: 3 });
    expect(seen).toEqual([{ x: 1, y: 2 }]);
  });

  it('refuses to start with a required input missing, naming the input and the task', () => {
    const flow = linear('missing', [
      task({ name: 'needsX', requires: ['x', 'y'], execute: () => 1 }),
      task({ name: 'alsoX', requires: 'x', execute: () => 1 }),
    ]);
    const error = thrownBy(() => newEngine().start(flow, { y: 1 }));
    expect(error).toBeInstanceOf(MissingInputsError);
    expect((error as MissingInputsError).missing).toEqual([
      { input: 'x', neededBy: 'needsX' },
      { input: 'x', neededBy: 'alsoX' },
    ]);
    expect(error.message).toMatch(/`x` \(needed by `needsX`\)/);
  });

  it('does not ask for inputs that a task before provides', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('provided', [
      task({ name: 'make', provides: 'x', execute: () => 5 }),
      recorder(seen, 'use', { requires: 'x' }),
    ]);
    await newEngine().run(flow);
    expect(seen).toEqual([{ x: 5 }]);
  });

  it('rebind reads an argument from another name', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('rebind', [
      task({ name: 'make', provides: 'tenantNet', execute: () => 'net-7' }),
      recorder(seen, 'alloc', {
        requires: ['network', 'zone'],
        rebind: { network: 'tenantNet', zone: 'az' },
      }),
    ]);
    await newEngine().run(flow, { az: 'az-1', network: 'ignored' });
    expect(seen).toEqual([{ network: 'net-7', zone: 'az-1' }]);
  });

  it('a missing rebound input is reported under its store name', () => {
    const flow = linear('rebind-missing', [
      recorder([], 'alloc', { requires: 'network', rebind: { network: 'tenantNet' } }),
    ]);
    const error = thrownBy(() => newEngine().start(flow, { network: 'n' })) as MissingInputsError;
    expect(error.missing).toEqual([{ input: 'tenantNet', neededBy: 'alloc' }]);
  });

  it('inject gives constant arguments to one task, over inputs and providers', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('inject', [
      task({ name: 'make', provides: 'pool', execute: () => 'private' }),
      recorder(seen, 'alloc', { requires: ['pool', 'network'], inject: { pool: 'public' } }),
      recorder(seen, 'other', { requires: 'pool' }),
    ]);
    await newEngine().run(flow, { network: 'n', pool: 'input-pool' });
    expect(seen).toEqual([{ pool: 'public', network: 'n' }, { pool: 'private' }]);
  });

  it('an injected argument is not a required input', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('inject-only', [recorder(seen, 't', { requires: 'x', inject: { x: 42 } })]);
    await newEngine().run(flow);
    expect(seen).toEqual([{ x: 42 }]);
  });

  it('optional arguments are undefined when absent and passed when present', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('optional', [recorder(seen, 't', { requires: 'a', optional: ['hint', 'b'] })]);
    const engine = newEngine();
    await engine.run(flow, { a: 1 });
    await engine.run(flow, { a: 1, hint: 'h' });
    expect(seen[0]).toEqual({ a: 1, hint: undefined, b: undefined });
    expect(seen[1]).toEqual({ a: 1, hint: 'h', b: undefined });
  });

  it('an optional argument can come from a task', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = graph('optional-task', [
      recorder(seen, 't', { optional: 'hint' }),
      task({ name: 'hinter', provides: 'hint', execute: () => 'from task' }),
    ]);
    await newEngine().run(flow);
    expect(seen).toEqual([{ hint: 'from task' }]);
  });

  it('the nearest provider before a task wins, and the last provider is the result', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('shadow', [
      task({ name: 'first', provides: 'x', execute: () => 1 }),
      recorder(seen, 'useFirst', { requires: 'x' }),
      task({ name: 'second', provides: 'x', execute: () => 2 }),
      recorder(seen, 'useSecond', { requires: 'x' }),
    ]);
    const results = await newEngine().run(flow);
    expect(seen).toEqual([{ x: 1 }, { x: 2 }]);
    expect(results).toEqual({ x: 2 });
  });

  it('a task provider shadows a run input of the same name', async () => {
    const seen: Record<string, unknown>[] = [];
    const flow = linear('shadow-input', [
      task({ name: 'make', provides: 'x', execute: () => 'task' }),
      recorder(seen, 'use', { requires: 'x' }),
    ]);
    await newEngine().run(flow, { x: 'input' });
    expect(seen).toEqual([{ x: 'task' }]);
  });

  it('inputs and results keep their types through the store (Date, bigint, Map, Set, undefined)', async () => {
    const seen: Record<string, unknown>[] = [];
    const when = new Date('2024-02-03T04:05:06.007Z');
    const flow = linear('typed', [
      task({
        name: 'make',
        provides: 'made',
        execute: () => ({ map: new Map([['k', 1n]]), set: new Set([when]), nothing: undefined }),
      }),
      recorder(seen, 'use', { requires: ['made', 'when'] }),
    ]);
    const results = await newEngine().run(flow, { when });
    const [args] = seen as [Record<string, any>];
    expect(args.when).toBeInstanceOf(Date);
    expect(args.when.getTime()).toBe(when.getTime());
    expect(args.made.map).toEqual(new Map([['k', 1n]]));
    expect([...args.made.set][0]).toEqual(when);
    expect('nothing' in args.made).toBe(true);
    expect(results.made).toEqual({ map: new Map([['k', 1n]]), set: new Set([when]), nothing: undefined });
  });

  it('a task gets a copy of its inputs: mutating its arguments does not change what the next task sees', async () => {
    const seen: unknown[] = [];
    const flow = linear('copies', [
      task({
        name: 'mutate',
        requires: 'list',
        execute: ({ list }) => {
          list.push('mutated');
        },
      }),
      task({ name: 'read', requires: 'list', execute: ({ list }) => void seen.push([...list]) }),
    ]);
    await newEngine().run(flow, { list: ['a'] });
    expect(seen).toEqual([['a']]);
  });

  // In-process only: progress events do not cross processes yet.
  it.skipIf(distributedMode)(
    'ctx names the run and the task, and progress reaches run.on("progress")',
    async () => {
      const ctxs: unknown[] = [];
      const flow = linear('ctx', [
        task({
          name: 'work',
          execute: (_args, ctx) => {
            ctxs.push({ flowId: ctx.flowId, taskName: ctx.taskName, attempt: ctx.attempt });
            ctx.progress(0.5, { step: 'half' });
            ctx.progress(1);
          },
        }),
      ]);
      const run = newEngine().start(flow, {}, { id: 'ctx-run' });
      const progress: ProgressEvent[] = [];
      run.on('progress', (e) => progress.push(e));
      await run.result;
      expect(ctxs).toEqual([{ flowId: 'ctx-run', taskName: 'work', attempt: 1 }]);
      expect(progress).toEqual([
        { task: 'work', fraction: 0.5, details: { step: 'half' } },
        { task: 'work', fraction: 1 },
      ]);
    },
  );
});

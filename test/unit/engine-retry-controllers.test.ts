import { describe, expect, it } from 'vitest';
import {
  FlowFailedError,
  graph,
  linear,
  parallel,
  RevertFailedError,
  retry,
  type Task,
  task,
} from '../../src/index.js';
import { deferred, failing, newEngine, rejectionOf, saving } from './engine-support.js';

// Ports of TaskFlow's RetryTest (test_retries.py): Times, ForEach, ParameterizedForEach, AlwaysRevert,
// AlwaysRevertAll, nested controllers, exhausted controllers.

/** TaskFlow's ConditionalTask: fails unless its argument `x` equals 2. */
function conditional(
  log: string[],
  name: string,
  options: { rebind?: Record<string, string> } = {},
): Task<any, any> {
  return task({
    name,
    requires: 'x',
    ...options,
    execute: ({ x }) => {
      log.push(name);
      if (x !== 2) throw new Error(`Woot ${name} x=${String(x)}`);
    },
    revert: ({ error }) => void log.push(`${name} reverted${error ? ` (${error.message})` : ''}`),
  });
}

describe('retry.times', () => {
  it('reverts the scope and runs it again until it succeeds, providing the try number', async () => {
    const log: string[] = [];
    const flow = linear('flow-1', [saving(log, 'task1'), conditional(log, 'task2')], {
      retry: retry.times(4, { provides: 'x' }),
    });
    const results = await newEngine().run(flow);
    expect(log).toEqual([
      'task1',
      'task2',
      'task2 reverted (Woot task2 x=1)',
      'task1 reverted',
      'task1',
      'task2',
    ]);
    expect(results).toEqual({});
  });

  it('reports the retry in task events: REVERTED tasks go back to PENDING and run again', async () => {
    const log: string[] = [];
    const flow = linear('flow-1', [saving(log, 'task1', { provides: 'p' }), conditional(log, 'task2')], {
      retry: retry.times(2, { provides: 'x' }),
    });
    const run = newEngine().start(flow);
    const states: string[] = [];
    run.on('task', (e) => states.push(`${e.task} ${e.state}`));
    await run.result;
    expect(states).toEqual([
      'task1 RUNNING',
      'task1 SUCCESS',
      'task2 RUNNING',
      'task2 FAILURE',
      'task2 REVERTING',
      'task2 REVERTED',
      'task1 REVERTING',
      'task1 REVERTED',
      'task1 PENDING',
      'task2 PENDING',
      'task1 RUNNING',
      'task1 SUCCESS',
      'task2 RUNNING',
      'task2 SUCCESS',
    ]);
  });

  it('when exhausted, reverts everything and fails the run with every failure', async () => {
    const log: string[] = [];
    const flow = linear('flow-1', [saving(log, 'task1'), failing(log, 'task2')], { retry: retry.times(2) });
    const run = newEngine().start(flow);
    const error = await rejectionOf(run.result);
    expect(log).toEqual([
      'task1',
      'task2',
      'task2 reverted',
      'task1 reverted',
      'task1',
      'task2',
      'task2 reverted',
      'task1 reverted',
    ]);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error as FlowFailedError).failures.map((f) => f.task)).toEqual(['task2', 'task2']);
    expect(run.status).toBe('REVERTED');
  });

  it('times(1) never retries', async () => {
    const log: string[] = [];
    const flow = linear('once', [failing(log, 'task1')], { retry: retry.times(1) });
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['task1', 'task1 reverted']);
  });

  it('stops retrying when a revert in the scope fails: the whole run reverts, FAILURE', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      saving(log, 'before'),
      linear(
        'scope',
        [
          task({
            name: 'nasty',
            execute: () => void log.push('nasty'),
            revert: () => {
              throw new Error('Gotcha!');
            },
          }),
          failing(log, 'fail'),
        ],
        { retry: retry.times(3) },
      ),
    ]);
    const run = newEngine().start(flow);
    const error = await rejectionOf(run.result);
    expect(error).toBeInstanceOf(RevertFailedError);
    expect(log).toEqual(['before', 'nasty', 'fail', 'fail reverted']);
    expect(run.status).toBe('FAILURE');
  });

  it('retries a parallel scope: a sibling that finished first is reverted too, then both run again', async () => {
    const log: string[] = [];
    const task1Done = deferred();
    const flow = parallel(
      'flow-1',
      [
        saving(log, 'task1'),
        task({
          name: 'task2',
          requires: 'x',
          async execute({ x }) {
            await task1Done.promise; // fail only once task1 (a leaf nothing failing depends on) is done
            log.push('task2');
            if (x !== 2) throw new Error('Woot');
          },
          revert: () => void log.push('task2 reverted'),
        }),
      ],
      { retry: retry.times(3, { provides: 'x' }) },
    );
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'task1' && e.state === 'SUCCESS' && task1Done.resolve());
    await run.result;
    expect(log.slice(0, 2)).toEqual(['task1', 'task2']);
    expect(log.slice(2, 4).sort()).toEqual(['task1 reverted', 'task2 reverted']);
    expect(log.slice(4)).toEqual(['task1', 'task2']);
  });

  it('lets a running sibling in the scope finish before reverting it for the retry', async () => {
    const log: string[] = [];
    const gate = deferred();
    const signals: AbortSignal[] = [];
    const flow = parallel(
      'scope',
      [
        task({
          name: 'slow',
          async execute(_args, ctx) {
            signals.push(ctx.signal);
            if (signals.length === 1) await gate.promise;
            log.push('slow');
          },
          revert: () => void log.push('slow reverted'),
        }),
        conditional(log, 'cond'),
      ],
      { retry: retry.times(2, { provides: 'x' }) },
    );
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'cond' && e.state === 'REVERTED' && gate.resolve());
    await run.result;
    expect(signals[0]?.aborted).toBe(false);
    expect(log.slice(0, 4)).toEqual(['cond', 'cond reverted (Woot cond x=1)', 'slow', 'slow reverted']);
    expect(log.slice(4).sort()).toEqual(['cond', 'slow']);
  });

  it('also reverts and re-runs tasks outside the scope that depend on it', async () => {
    const log: string[] = [];
    const userDone = deferred();
    const flow = graph('g', [
      linear(
        'scope',
        [
          saving(log, 'a', { provides: 'a' }),
          task({
            name: 'cond',
            requires: 'x',
            async execute({ x }) {
              if (x === 1) {
                await userDone.promise; // fail only once `user`, outside the scope, has run
                log.push('cond');
                throw new Error('Woot cond');
              }
              log.push('cond');
            },
            revert: () => void log.push('cond reverted'),
          }),
        ],
        { retry: retry.times(2, { provides: 'x' }) },
      ),
      task({
        name: 'user',
        requires: 'a',
        execute: () => void log.push('user'),
        revert: () => void log.push('user reverted'),
      }),
    ]);
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'user' && e.state === 'SUCCESS' && userDone.resolve());
    await run.result;
    expect(log.slice(0, 3)).toEqual(['a', 'user', 'cond']);
    expect(log.slice(3, 5).sort()).toEqual(['cond reverted', 'user reverted']);
    expect(log[5]).toBe('a reverted');
    expect(log.slice(6).sort()).toEqual(['a', 'cond', 'user'].sort());
    expect(log[6]).toBe('a');
  });
});

describe('nested controllers', () => {
  it('an inner RETRY wins over an outer controller', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [
        saving(log, 'task1'),
        linear('flow-2', [saving(log, 'task2'), conditional(log, 'task3')], {
          retry: retry.times(3, { provides: 'x' }),
        }),
        saving(log, 'task4'),
      ],
      { retry: retry.alwaysRevert() },
    );
    await newEngine().run(flow);
    expect(log).toEqual([
      'task1',
      'task2',
      'task3',
      'task3 reverted (Woot task3 x=1)',
      'task2 reverted',
      'task2',
      'task3',
      'task4',
    ]);
  });

  it('a failure outside the inner scope is handled by the outer one, which re-runs the inner scope from scratch', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [
        saving(log, 'task1'),
        linear('flow-2', [saving(log, 'task2'), saving(log, 'task3')], {
          retry: retry.times(3, { provides: 'x2' }),
        }),
        conditional(log, 'task4', { rebind: { x: 'x1' } }),
      ],
      { retry: retry.times(3, { provides: 'x1' }) },
    );
    await newEngine().run(flow);
    expect(log).toEqual([
      'task1',
      'task2',
      'task3',
      'task4',
      'task4 reverted (Woot task4 x=1)',
      'task3 reverted',
      'task2 reverted',
      'task1 reverted',
      'task1',
      'task2',
      'task3',
      'task4',
    ]);
  });

  it('an exhausted inner controller (REVERT) defers to an outer RETRY', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [
        saving(log, 'task1'),
        linear('flow-2', [conditional(log, 'task2')], { retry: retry.times(1, { provides: 'x2' }) }),
      ],
      { retry: retry.times(3, { provides: 'x' }) },
    );
    await newEngine().run(flow);
    expect(log).toEqual([
      'task1',
      'task2',
      'task2 reverted (Woot task2 x=1)',
      'task1 reverted',
      'task1',
      'task2',
    ]);
  });

  it('an inner alwaysRevert defers to the outer controller', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [saving(log, 'task1'), linear('flow-2', [conditional(log, 'task2')], { retry: retry.alwaysRevert() })],
      { retry: retry.times(2, { provides: 'x' }) },
    );
    await newEngine().run(flow);
    expect(log).toEqual([
      'task1',
      'task2',
      'task2 reverted (Woot task2 x=1)',
      'task1 reverted',
      'task1',
      'task2',
    ]);
  });

  it('an inner alwaysRevertAll reverts the whole run, whatever the outer controller says', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [
        saving(log, 'task1'),
        linear('flow-2', [conditional(log, 'task2')], { retry: retry.alwaysRevertAll() }),
      ],
      { retry: retry.times(3, { provides: 'x' }) },
    );
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(log).toEqual(['task1', 'task2', 'task2 reverted (Woot task2 x=1)', 'task1 reverted']);
  });

  it('times(n, { revertAll: true }) reverts the whole run once exhausted, skipping outer controllers', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [
        saving(log, 'task1'),
        linear('flow-2', [failing(log, 'task2')], { retry: retry.times(2, { revertAll: true }) }),
      ],
      { retry: retry.times(5) },
    );
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['task1', 'task2', 'task2 reverted', 'task2', 'task2 reverted', 'task1 reverted']);
  });

  it('both exhausted: the run reverts and fails', async () => {
    const log: string[] = [];
    const flow = linear(
      'flow-1',
      [saving(log, 'task1'), linear('flow-2', [failing(log, 'task2')], { retry: retry.times(2) })],
      { retry: retry.times(2) },
    );
    const error = (await rejectionOf(newEngine().run(flow))) as FlowFailedError;
    expect(error).toBeInstanceOf(FlowFailedError);
    // 2 outer tries × 2 inner tries.
    expect(log.filter((l) => l === 'task2')).toHaveLength(4);
    expect(log.filter((l) => l === 'task1')).toHaveLength(2);
    expect(log.at(-1)).toBe('task1 reverted');
    expect(error.failures).toHaveLength(4);
  });
});

describe('retry.alwaysRevert / alwaysRevertAll at the top', () => {
  it('alwaysRevert alone reverts the run once, no retry', async () => {
    const log: string[] = [];
    const flow = linear('ar', [saving(log, 'task1'), failing(log, 'task2')], { retry: retry.alwaysRevert() });
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['task1', 'task2', 'task2 reverted', 'task1 reverted']);
  });

  it('alwaysRevertAll alone reverts the run once, no retry', async () => {
    const log: string[] = [];
    const flow = linear('ara', [saving(log, 'task1'), failing(log, 'task2')], {
      retry: retry.alwaysRevertAll(),
    });
    await rejectionOf(newEngine().run(flow));
    expect(log).toEqual(['task1', 'task2', 'task2 reverted', 'task1 reverted']);
  });
});

describe('retry.forEach', () => {
  /** Fails unless `host` is `good`; logs each host tried. */
  const placer = (log: string[], good: string) =>
    task({
      name: 'place',
      requires: 'host',
      provides: 'placed',
      execute: ({ host }) => {
        log.push(`place on ${host}`);
        if (host !== good) throw new Error(`${host} is full`);
        return host;
      },
      revert: ({ host }) => void log.push(`unplace ${host}`),
    });

  it('runs the scope once per value until one succeeds', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'h3')], {
      retry: retry.forEach(['h1', 'h2', 'h3', 'h4'], { provides: 'host' }),
    });
    expect(await newEngine().run(flow)).toEqual({ placed: 'h3' });
    expect(log).toEqual(['place on h1', 'unplace h1', 'place on h2', 'unplace h2', 'place on h3']);
  });

  it('reverts and fails once every value was tried', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'none')], {
      retry: retry.forEach(['h1', 'h2'], { provides: 'host' }),
    });
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(log).toEqual(['place on h1', 'unplace h1', 'place on h2', 'unplace h2']);
  });

  it('supports values of any serialisable kind', async () => {
    const seen: unknown[] = [];
    const flow = linear(
      'kinds',
      [
        task({
          name: 'use',
          requires: 'v',
          execute: ({ v }) => {
            seen.push(v);
            if (!(v instanceof Date)) throw new Error('not a date');
          },
        }),
      ],
      { retry: retry.forEach([{ a: 1 }, 7n, new Date(0)], { provides: 'v' }) },
    );
    await newEngine().run(flow);
    expect(seen).toEqual([{ a: 1 }, 7n, new Date(0)]);
  });
});

describe('retry.parameterized', () => {
  const placer = (log: string[], good: string, requires = 'host') =>
    task({
      name: 'place',
      requires,
      execute: (args) => {
        const host = args[requires];
        log.push(`place on ${host}`);
        if (host !== good) throw new Error(`${host} is full`);
      },
      revert: (args) => void log.push(`unplace ${args[requires]}`),
    });

  it('iterates values from the run inputs', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'b')], {
      retry: retry.parameterized({ requires: 'hosts', provides: 'host' }),
    });
    await newEngine().run(flow, { hosts: ['a', 'b', 'c'] });
    expect(log).toEqual(['place on a', 'unplace a', 'place on b']);
  });

  it('iterates values provided by a task before the scope', async () => {
    const log: string[] = [];
    const flow = linear('outer', [
      task({ name: 'list', provides: 'hosts', execute: () => ['x', 'y'] }),
      linear('pick', [placer(log, 'y')], {
        retry: retry.parameterized({ requires: 'hosts', provides: 'host' }),
      }),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['place on x', 'unplace x', 'place on y']);
  });

  it('without provides, provides the value under the scope name', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'q', 'pick')], {
      retry: retry.parameterized({ requires: 'hosts' }),
    });
    await newEngine().run(flow, { hosts: ['p', 'q'] });
    expect(log).toEqual(['place on p', 'unplace p', 'place on q']);
  });

  it('fails once every value was tried, and on an empty list fails without executing (a clear error)', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'none')], {
      retry: retry.parameterized({ requires: 'hosts', provides: 'host' }),
    });
    await rejectionOf(newEngine().run(flow, { hosts: ['a', 'b'] }));
    expect(log).toEqual(['place on a', 'unplace a', 'place on b', 'unplace b']);
    log.length = 0;
    const error = await rejectionOf(newEngine().run(flow, { hosts: [] }));
    // The task failed before its execute was called; as any failed task, it is reverted with its error.
    expect(log).toEqual(['unplace undefined']);
    expect((error as FlowFailedError).failures[0]?.error.message).toMatch(
      /Expected a value for `host` of task `place` from parameterized\(hosts → host\) of `pick`, got none/,
    );
  });

  it('fails with the same clear error, without retrying, when the values are not a list', async () => {
    const log: string[] = [];
    const flow = linear('pick', [placer(log, 'a')], {
      retry: retry.parameterized({ requires: 'hosts', provides: 'host' }),
    });
    const error = await rejectionOf(newEngine().run(flow, { hosts: 'a' }));
    expect(log).toEqual(['unplace undefined']);
    expect((error as FlowFailedError).failures.map((f) => f.error.message)).toEqual([
      'Expected a value for `host` of task `place` from parameterized(hosts → host) of `pick`, got none: its list is empty or not a list. Give the run at least one value to try.',
    ]);
  });
});

describe('idempotency keys and retry controllers', () => {
  it('are the same across per-task attempts and differ across controller iterations', async () => {
    const keys: { attempt: number; key: string }[] = [];
    const flow = linear(
      'keys',
      [
        task({
          name: 'work',
          retry: { attempts: 2 },
          execute: (_args, ctx) => {
            keys.push({ attempt: ctx.attempt, key: ctx.idempotencyKey });
            if (keys.length < 4) throw new Error('again');
          },
        }),
      ],
      { retry: retry.times(2) },
    );
    await newEngine().run(flow, {}, { id: 'run-keys' });
    expect(keys.map((k) => k.attempt)).toEqual([1, 2, 1, 2]);
    const [k0, k1, k2, k3] = keys.map((k) => k.key);
    expect(k0).toBe(k1);
    expect(k2).toBe(k3);
    expect(k0).not.toBe(k2);
  });

  it('differ between tasks and between runs', async () => {
    const keys: string[] = [];
    const flow = linear('keys2', [
      task({ name: 'a', execute: (_args, ctx) => void keys.push(ctx.idempotencyKey) }),
      task({ name: 'b', execute: (_args, ctx) => void keys.push(ctx.idempotencyKey) }),
    ]);
    const engine = newEngine();
    await engine.run(flow, {}, { id: 'r1' });
    await engine.run(flow, {}, { id: 'r2' });
    expect(new Set(keys).size).toBe(4);
  });
});

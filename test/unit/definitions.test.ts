import { describe, expect, it } from 'vitest';
import {
  compile,
  createEngine,
  DependencyCycleError,
  DuplicateNameError,
  FlowDefinitionError,
  graph,
  linear,
  MissingInputsError,
  parallel,
  retry,
  type Task,
  TaskweaveError,
  task,
} from '../../src/index.js';
import { newEngine, thrownBy } from './engine-support.js';

// Ports of TaskFlow's pattern and flattening checks (test_graph_flow.py, test_linear_flow.py,
// test_unordered_flow.py, test_flow_dependencies.py, test_engines.py definition errors).

const t = (
  name: string,
  options: { requires?: string[] | string; provides?: string[] | string; optional?: string } = {},
): Task<any, any> => task({ name, ...options, execute: () => ({}) });

/** The error `compile` throws for `flow` (a FlowDefinitionError, or the test fails). */
function definitionError(build: () => unknown): FlowDefinitionError {
  const error = thrownBy(() => {
    const built = build();
    if (built && typeof built === 'object' && 'kind' in built && built.kind !== 'task')
      compile(built as never);
  });
  expect(error).toBeInstanceOf(FlowDefinitionError);
  expect(error).toBeInstanceOf(TaskweaveError);
  return error as FlowDefinitionError;
}

describe('duplicate names', () => {
  it('two tasks with one name', () => {
    const error = definitionError(() => linear('dup', [t('a'), t('a')]));
    expect(error).toBeInstanceOf(DuplicateNameError);
    expect((error as DuplicateNameError).duplicate).toBe('a');
    expect(error.message).toMatch(/`a` twice/);
  });

  it('the same name in nested flows', () => {
    const error = definitionError(() =>
      linear('outer', [t('a'), graph('inner', [t('b'), parallel('deep', [t('a')])])]),
    );
    expect(error).toBeInstanceOf(DuplicateNameError);
    expect((error as DuplicateNameError).duplicate).toBe('a');
  });

  it('a task named like a flow', () => {
    const error = definitionError(() => linear('outer', [linear('x', [t('y')]), t('x')]));
    expect(error).toBeInstanceOf(DuplicateNameError);
  });

  it('the same task object twice', () => {
    const a = t('a');
    expect(definitionError(() => linear('twice', [a, a]))).toBeInstanceOf(DuplicateNameError);
  });
});

describe('dependency cycles', () => {
  it('two tasks requiring each other, naming the cycle', () => {
    const error = definitionError(() =>
      graph('cyc', [t('a', { requires: 'y', provides: 'x' }), t('b', { requires: 'x', provides: 'y' })]),
    );
    expect(error).toBeInstanceOf(DependencyCycleError);
    const cycle = (error as DependencyCycleError).cycle;
    expect(cycle[0]).toBe(cycle.at(-1));
    expect([...new Set(cycle)].sort()).toEqual(['a', 'b']);
    expect(error.message).toMatch(/a → b → a|b → a → b/);
  });

  it('a longer cycle through links and data', () => {
    const error = definitionError(() =>
      graph('cyc3', [t('a', { provides: 'x' }), t('b', { requires: 'x' }), t('c'), t('d')], {
        links: [
          ['b', 'c'],
          ['c', 'a'],
        ],
      }),
    );
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect([...new Set((error as DependencyCycleError).cycle)].sort()).toEqual(['a', 'b', 'c']);
    expect((error as DependencyCycleError).cycle).not.toContain('d');
  });

  it('a task linked to itself', () => {
    const error = definitionError(() => graph('self', [t('a')], { links: [['a', 'a']] }));
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).cycle).toEqual(['a', 'a']);
  });

  it('a link against the order of a linear flow nested in a graph', () => {
    const error = definitionError(() =>
      graph('g', [linear('l', [t('a'), t('b')]), t('c')], {
        links: [
          ['l', 'c'],
          ['c', 'l'],
        ],
      }),
    );
    expect(error).toBeInstanceOf(DependencyCycleError);
  });

  it('a task requiring what it provides itself is not a cycle: it reads the run input', async () => {
    const flow = linear('self-provide', [
      task({ name: 'inc', requires: 'n', provides: 'n', execute: ({ n }) => n + 1 }),
    ]);
    expect(await newEngine().run(flow, { n: 1 })).toEqual({ n: 2 });
  });
});

describe('providers', () => {
  it('two children of a graph providing one name', () => {
    const error = definitionError(() =>
      graph('amb', [t('a', { provides: 'x' }), t('b', { provides: 'x' }), t('c', { requires: 'x' })]),
    );
    expect(error.message).toMatch(/one provider of `x`.*`a` and `b`/);
  });

  it('two unordered providers before a consumer', () => {
    const error = definitionError(() =>
      linear('amb2', [
        parallel('p', [t('a', { provides: 'x' }), t('b', { provides: 'x' })]),
        t('c', { requires: 'x' }),
      ]),
    );
    expect(error.message).toMatch(/one provider of `x` for task `c`/);
  });

  it('parallel siblings feeding each other', () => {
    const error = definitionError(() =>
      parallel('par', [t('a', { provides: 'x' }), t('b', { requires: 'x' })]),
    );
    expect(error.message).toMatch(/parallel `par` to be independent.*`b` requiring `x`.*`a` provides/);
  });

  it('parallel sub-flows feeding each other through nested tasks', () => {
    const error = definitionError(() =>
      parallel('par', [
        linear('one', [t('a', { provides: 'x' })]),
        linear('two', [t('b', { optional: 'x' })]),
      ]),
    );
    expect(error.message).toMatch(/`two` requiring `x`/);
  });

  it('a missing required input of a retry.parameterized controller', () => {
    const flow = linear('param', [t('a', { requires: 'host' })], {
      retry: retry.parameterized({ requires: 'hosts', provides: 'host' }),
    });
    const error = thrownBy(() => newEngine().start(flow, {}));
    expect(error).toBeInstanceOf(MissingInputsError);
    expect((error as MissingInputsError).missing).toEqual([{ input: 'hosts', neededBy: 'param' }]);
  });
});

describe('bad options, with messages saying what was expected and what was got', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'task without a name',
      () => task({ name: '', execute: () => 1 }),
      /`name` to be a non-empty string, got `` \(string\)/,
    ],
    [
      'task with a non-function execute',
      () => task({ name: 'x', execute: 5 as never }),
      /`execute` of task `x` to be a function, got `5` \(number\)/,
    ],
    [
      'task with a non-function revert',
      () => task({ name: 'x', execute: () => 1, revert: 'no' as never }),
      /`revert` of task `x` to be a function/,
    ],
    [
      'requires not names',
      () => task({ name: 'x', requires: [1] as never, execute: () => 1 }),
      /`requires` of task `x` to be a name or a list of non-empty names, got `\[1\]` \(array\)/,
    ],
    [
      'provides not names',
      () => task({ name: 'x', provides: [''] as never, execute: () => 1 }),
      /`provides` of task `x`/,
    ],
    [
      'requires and optional clash',
      () => task({ name: 'x', requires: 'a', optional: 'a', execute: () => 1 }),
      /`a` of task `x` in either requires or optional/,
    ],
    [
      'retry.attempts 0',
      () => task({ name: 'x', retry: { attempts: 0 }, execute: () => 1 }),
      /`retry.attempts` of task `x` to be an integer from 1 and up, got `0` \(number\)/,
    ],
    [
      'retry.attempts 1.5',
      () => task({ name: 'x', retry: { attempts: 1.5 }, execute: () => 1 }),
      /an integer from 1 and up, got `1.5`/,
    ],
    [
      'optional not names',
      () => task({ name: 'x', optional: [''] as never, execute: () => 1 }),
      /^Expected `optional` of task `x` to be a name or a list of non-empty names, got `\[""\]` \(array\)$/,
    ],
    [
      'backoff given as text',
      () => task({ name: 'x', retry: { attempts: 2, backoffMs: '5' as never }, execute: () => 1 }),
      /^Expected `retry.backoffMs` of task `x` to be a number from 0 and up, got `5` \(string\)$/,
    ],
    [
      'negative backoff',
      () => task({ name: 'x', retry: { attempts: 2, backoffMs: -1 }, execute: () => 1 }),
      /`retry.backoffMs` of task `x` to be a number from 0 and up/,
    ],
    [
      'timeoutMs 0',
      () => task({ name: 'x', timeoutMs: 0, execute: () => 1 }),
      /`timeoutMs` of task `x` to be a number from 1 and up, got `0`/,
    ],
    [
      'timeoutMs NaN',
      () => task({ name: 'x', timeoutMs: Number.NaN, execute: () => 1 }),
      /`timeoutMs` of task `x` to be a number from 1 and up, got `NaN` \(number\)/,
    ],
    [
      'rebind to an empty name',
      () => task({ name: 'x', requires: 'a', rebind: { a: '' }, execute: () => 1 }),
      /`rebind.a` of task `x`/,
    ],
    [
      'task options null',
      () => task(null as never),
      /^Expected task options to be an object, got `null` \(null\)$/,
    ],
    [
      'task options not an object',
      () => task('x' as never),
      /^Expected task options to be an object, got `x` \(string\)$/,
    ],
    [
      'a task name with a dot',
      () => task({ name: 'a.b', execute: () => 1 }),
      /^Expected a task name without `.` or `#`, got `a.b`$/,
    ],
    [
      'retry not an object',
      () => task({ name: 'x', retry: 5 as never, execute: () => 1 }),
      /^Expected `retry` of task `x` to be an object, got `5` \(number\)$/,
    ],
    [
      'retry.factor below 1',
      () => task({ name: 'x', retry: { attempts: 2, factor: 0.5 }, execute: () => 1 }),
      /^Expected `retry.factor` of task `x` to be a number from 1 and up, got `0.5` \(number\)$/,
    ],
    [
      'negative retry.maxBackoffMs',
      () => task({ name: 'x', retry: { attempts: 2, maxBackoffMs: -1 }, execute: () => 1 }),
      /^Expected `retry.maxBackoffMs` of task `x` to be a number from 0 and up, got `-1` \(number\)$/,
    ],
    [
      'an empty queue',
      () => task({ name: 'x', queue: '', execute: () => 1 }),
      /^Expected `queue` of task `x` to be a non-empty string, got `` \(string\)$/,
    ],
    [
      'rebind null',
      () => task({ name: 'x', rebind: null as never, execute: () => 1 }),
      /^Expected `rebind` of task `x` to be an object, got `null` \(null\)$/,
    ],
    [
      'inject a number',
      () => task({ name: 'x', inject: 5 as never, execute: () => 1 }),
      /^Expected `inject` of task `x` to be an object, got `5` \(number\)$/,
    ],
    [
      'inject not an object',
      () => task({ name: 'x', inject: [] as never, execute: () => 1 }),
      /`inject` of task `x` to be an object, got `\[\]` \(array\)/,
    ],
    [
      'flow without a name',
      () => linear('', [t('a')]),
      /^Expected `name` of `linear\(\)` to be a non-empty string, got `` \(string\)$/,
    ],
    ['children not an array', () => linear('f', t('a') as never), /children of linear `f` to be an array/],
    [
      'a child that is not a task or flow',
      () => graph('f', [{ kind: 'nope' } as never]),
      /child 0 of graph `f` to be a task\(\) or a flow/,
    ],
    [
      'a child that is null',
      () => linear('f', [null as never]),
      /^Expected child 0 of linear `f` to be a task\(\) or a flow, got `null` \(null\)$/,
    ],
    [
      'a link that is a string',
      () => graph('f', [t('a'), t('b')], { links: ['ab' as never] }),
      /^Expected each link of graph `f` to be \[from, to\] or \[from, to, decider\], got `ab` \(string\)$/,
    ],
    [
      'a link from a number',
      () => graph('f', [t('a'), t('b')], { links: [[1 as never, 'b']] }),
      /^Expected each link of graph `f` to be \[from, to\] or \[from, to, decider\], got `\[1,"b"\]` \(array\)$/,
    ],
    [
      'a link to a number',
      () => graph('f', [t('a'), t('b')], { links: [['a', 2 as never]] }),
      /^Expected each link of graph `f` to be \[from, to\] or \[from, to, decider\], got `\["a",2\]` \(array\)$/,
    ],
    [
      'links on a linear flow',
      () => linear('f', [t('a')], { links: [['a', 'a']] }),
      /`links` only on graph\(\), got them on linear `f`/,
    ],
    [
      'a malformed link',
      () => graph('f', [t('a')], { links: [['a'] as never] }),
      /each link of graph `f` to be \[from, to\]/,
    ],
    [
      'a decider that is not a function',
      () => graph('f', [t('a'), t('b')], { links: [['a', 'b', 1 as never]] }),
      /decider of link a → b to be a function/,
    ],
    [
      'a link to an unknown child',
      () => graph('f', [t('a'), t('b')], { links: [['a', 'zz']] }),
      /^Expected links of graph `f` to name its children \(`a`, `b`\), got `zz`$/,
    ],
    ['an empty flow', () => linear('empty', []), /`empty` to contain at least one task/],
    ['an empty version', () => linear('v', [t('a')], { version: '' }), /version/],
    [
      'retry.times(0)',
      () => retry.times(0),
      /^Expected `n` of `retry.times\(n\)` to be an integer from 1 and up, got `0` \(number\)$/,
    ],
    [
      'retry.times(1.5)',
      () => retry.times(1.5),
      /^Expected `n` of `retry.times\(n\)` to be an integer from 1 and up, got `1.5` \(number\)$/,
    ],
    [
      'retry.forEach([])',
      () => retry.forEach([], { provides: 'v' }),
      /^Expected `values` of `retry.forEach` to be a non-empty array, got `\[\]` \(array\)$/,
    ],
    [
      'retry.forEach without provides',
      () => retry.forEach([1], {} as never),
      /^Expected `provides` of `retry.forEach` to be a non-empty string, got `undefined` \(undefined\)$/,
    ],
    [
      'retry.parameterized without requires',
      () => retry.parameterized({} as never),
      /^Expected `requires` of `retry.parameterized` to be a non-empty string, got `undefined` \(undefined\)$/,
    ],
    [
      'retry.forEach without options',
      () => retry.forEach([1], undefined as never),
      /^Expected `provides` of `retry.forEach` to be a non-empty string, got `undefined` \(undefined\)$/,
    ],
    [
      'retry.parameterized without options',
      () => retry.parameterized(undefined as never),
      /^Expected `requires` of `retry.parameterized` to be a non-empty string, got `undefined` \(undefined\)$/,
    ],
    [
      'retry.parameterized with an empty provides',
      () => retry.parameterized({ requires: 'hosts', provides: '' }),
      /^Expected `provides` of `retry.parameterized` to be a non-empty string, got `` \(string\)$/,
    ],
  ];
  it.each(cases)('%s', (_what, build, message) => {
    const error = definitionError(build);
    expect(error.message).toMatch(message);
  });

  it('engine options and run inputs', () => {
    expect(thrownBy(() => createEngine({ concurrency: -1 })).message).toMatch(
      /`concurrency` to be an integer from 0 and up, got `-1` \(number\)/,
    );
    const flow = linear('ok', [t('a')]);
    expect(thrownBy(() => newEngine().start(flow, [] as never)).message).toMatch(
      /run inputs to be an object, got `\[\]`/,
    );
    expect(thrownBy(() => newEngine().start(flow, {}, { concurrency: 0.5 })).message).toMatch(
      /`concurrency`/,
    );
  });

  it('surface when a flow is registered, before anything runs', () => {
    const bad = linear('bad', [t('a'), t('a')]);
    expect(() => createEngine({ flows: [bad] })).toThrow(DuplicateNameError);
    expect(() => newEngine().start(bad)).toThrow(DuplicateNameError);
  });

  it('keep two structures under one name side by side; new runs by name use the last registered', async () => {
    const v1 = linear('same', [t('a')], { version: '1' });
    const v2 = linear('same', [t('a'), t('b')], { version: '2' });
    const engine = newEngine({ flows: [v1] });
    engine.register(v2);
    engine.register(linear('same', [t('a')], { version: '1b' })); // v1's structure again: stays older
    const run = engine.start('same');
    await run.result;
    expect((await engine.get(run.id))?.meta.version).toBe('2');
  });

  it('unknown flow names are refused by start', () => {
    expect(() => newEngine().start('nowhere')).toThrow(/registered with this engine, got `nowhere`/);
  });
});

/**
 * The defaults and descriptions a definition holds: a task's queue (`default` unless given), a flow's
 * version (`1` unless given), and each retry controller's kind and description, which the catalog
 * shows and the structural hash includes (a changed description would refuse to resume stored runs).
 */
describe('definition defaults and controller descriptions', () => {
  it('a task runs on queue `default` unless given one; a flow is version `1` unless given one', () => {
    expect(task({ name: 'q', execute: () => 1 }).queue).toBe('default');
    expect(task({ name: 'q', queue: 'gpu', execute: () => 1 }).queue).toBe('gpu');
    expect(linear('v', [task({ name: 'a', execute: () => 1 })]).version).toBe('1');
  });

  it('each retry controller has its kind and description', () => {
    const controllers = [
      retry.times(3),
      retry.times(2, { revertAll: true }),
      retry.forEach([1, 2n, 'h'], { provides: 'v' }),
      retry.parameterized({ requires: 'hosts' }),
      retry.parameterized({ requires: 'hosts', provides: 'host' }),
      retry.alwaysRevert(),
      retry.alwaysRevertAll(),
    ];
    expect(controllers.map((c) => [c.kind, c.describe])).toEqual([
      ['times', 'times(3)'],
      ['times', 'times(2, revertAll)'],
      ['forEach', 'forEach([1,"2n","h"] → v)'],
      ['parameterized', 'parameterized(hosts → <scope>)'],
      ['parameterized', 'parameterized(hosts → host)'],
      ['alwaysRevert', 'alwaysRevert'],
      ['alwaysRevertAll', 'alwaysRevertAll'],
    ]);
  });
});

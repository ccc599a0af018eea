import { describe, expect, it } from 'vitest';
import { compile, DependencyCycleError, graph, linear, parallel, retry, task } from '../../src/index.js';
import { newEngine, thrownBy } from './engine-support.js';

/**
 * How a graph orders its children from the names tasks read and provide: the name a task reads is the
 * store name (after `rebind`), an injected argument needs no provider, a child may feed itself, and a
 * task may update a name it reads. Found by Stryker (issue 16): each of these rules could be dropped
 * without a test failing, since the graph tests wired plain names between single tasks.
 */
describe('a graph orders its children by the names tasks read', () => {
  it('reads a rebound argument from the provider of the name it is rebound to', async () => {
    const log: string[] = [];
    const flow = graph('rebound', [
      task({
        name: 'consumer',
        requires: 'address',
        rebind: { address: 'ip' },
        execute: ({ address }) => void log.push(`consumer(${address})`),
      }),
      task({
        name: 'allocate',
        provides: 'ip',
        execute: () => {
          log.push('allocate');
          return '10.0.0.7';
        },
      }),
    ]);
    await newEngine().run(flow);
    expect(log).toEqual(['allocate', 'consumer(10.0.0.7)']);
  });

  it('does not wait for a provider of an injected argument', async () => {
    const started: string[] = [];
    const flow = graph('injected', [
      task({
        name: 'uses-constant',
        requires: 'size',
        inject: { size: 3 },
        execute: ({ size }) => void started.push(`uses-constant(${size})`),
      }),
      task({
        name: 'sizer',
        provides: 'size',
        execute: () => {
          started.push('sizer');
          return 9;
        },
      }),
    ]);
    expect(compile(flow).graph.edges).toEqual([]);
    await newEngine().run(flow);
    expect(started.sort()).toEqual(['sizer', 'uses-constant(3)']);
  });

  it('lets a parallel child feed itself (a linear child whose second task reads its first)', async () => {
    const log: string[] = [];
    const flow = parallel('self-fed', [
      linear('pair', [
        task({ name: 'make', provides: 'v', execute: () => 'made' }),
        task({ name: 'use', requires: 'v', execute: ({ v }) => void log.push(`use(${v})`) }),
      ]),
      task({ name: 'other', execute: () => void log.push('other') }),
    ]);
    await newEngine().run(flow);
    expect(log.sort()).toEqual(['other', 'use(made)']);
  });

  it('takes the later of two providers of one name inside one child, for a task in another child', async () => {
    const flow = graph('re-provided', [
      linear('steps', [
        task({ name: 'draft', provides: 'doc', execute: () => 'draft' }),
        task({ name: 'final', requires: 'doc', provides: 'doc', execute: ({ doc }) => `${doc}+final` }),
      ]),
      task({ name: 'publish', requires: 'doc', provides: 'published', execute: ({ doc }) => doc }),
    ]);
    expect(await newEngine().run(flow)).toEqual({ doc: 'draft+final', published: 'draft+final' });
  });

  it('lets a task update a name it reads (from the run inputs), before the task that reads the update', async () => {
    const flow = graph('update', [
      task({ name: 'bump', requires: 'n', provides: 'n', execute: ({ n }) => n + 1 }),
      task({ name: 'report', requires: 'n', provides: 'reported', execute: ({ n }) => `n=${n}` }),
    ]);
    expect(await newEngine().run(flow, { n: 1 })).toEqual({ n: 2, reported: 'n=2' });
  });

  it('gives a retry.times scope without provides nothing to read: a task reading its name gets the run input', async () => {
    const flow = linear(
      'deploy',
      [task({ name: 'echo', requires: 'deploy', provides: 'out', execute: ({ deploy }) => deploy })],
      { retry: retry.times(2) },
    );
    expect(await newEngine().run(flow, { deploy: 'from-input' })).toEqual({ out: 'from-input' });
  });
});

describe('the edges of a compiled graph', () => {
  it('come in topological order of their source, then of their target (the catalog, diagrams and hash use them)', () => {
    const t = (name: string) => task({ name, execute: () => name });
    // `a → c` is declared before `a → b`, but `c` also waits for `x`, so `b` comes first.
    const flow = graph('edge-order', [t('a'), t('b'), t('c'), t('x')], {
      links: [
        ['a', 'c'],
        ['a', 'b'],
        ['x', 'c'],
      ],
    });
    expect(compile(flow).graph.tasks.map((n) => n.name)).toEqual(['a', 'x', 'b', 'c']);
    expect(compile(flow).graph.edges).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['x', 'c'],
    ]);
  });
});

describe('a dependency cycle', () => {
  it('is named by the tasks on it only, not the tasks that lead to it', () => {
    const t = (name: string) => task({ name, execute: () => name });
    // r leads into the cycle a → b → a (its first link goes to a dead end) and follows the cycle q ⇄ p;
    // `tail`, first in the list, only follows the cycle.
    const error = thrownBy(() =>
      compile(
        graph('cycles', [t('tail'), t('r'), t('dead'), t('q'), t('p'), t('a'), t('b')], {
          links: [
            ['r', 'dead'],
            ['r', 'a'],
            ['q', 'r'],
            ['q', 'p'],
            ['p', 'q'],
            ['a', 'b'],
            ['b', 'a'],
            ['b', 'tail'],
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).cycle).toEqual(['a', 'b', 'a']);
    expect(error.message).toBe(
      'Expected the tasks to form a DAG, got a dependency cycle: a → b → a. Break one of these links or requires/provides pairs.',
    );
  });
});

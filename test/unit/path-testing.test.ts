import { describe, expect, it } from 'vitest';
import { createEngine, type Flow, graph, linear, parallel, retry, task } from '../../src/index.js';
import {
  checkTrace,
  flowPaths,
  type PathRun,
  PathTestError,
  type TraceEvent,
  testFlowPaths,
} from '../../src/testing/index.js';

const step = (name: string, requires: string[] = [], provides?: string) =>
  task({ name, requires, ...(provides ? { provides } : {}), execute: () => name, revert: () => {} });

const chain = linear('chain', [step('a'), step('b'), step('c')]);
const diamond = graph('diamond', [
  step('a', [], 'x'),
  step('b', ['x'], 'y'),
  step('c', ['x'], 'z'),
  step('d', ['y', 'z']),
]);
const fan = parallel('fan', [step('a'), step('b'), step('c')]);
const retried = linear('retried', [step('a'), step('b')], { retry: retry.times(2) });

const names = (flow: Flow, options = {}) => flowPaths(flow, options).paths.map((p) => p.name);

describe('flowPaths', () => {
  it('a chain of 3: one path per failing task, plus success', () => {
    expect(names(chain)).toEqual([
      'a:success b:success c:success → SUCCESS',
      'a:success b:success c:failure c:reverted b:reverted a:reverted → REVERTED',
      'a:success b:failure b:reverted a:reverted → REVERTED',
      'a:failure a:reverted → REVERTED',
    ]);
  });

  it('a path prints as its summary, and stays plain data', () => {
    const [first] = flowPaths(chain).paths;
    expect(`${first}`).toBe('a:success b:success c:success → SUCCESS');
    expect(String(first)).toBe(first!.name);
    expect(Object.keys(first!)).toEqual(['name', 'steps', 'status', 'inFlight']);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
  });

  it('a chain of 3 with failing reverts: a failed revert leaves what it depends on', () => {
    const paths = flowPaths(chain, { revertFailures: true }).paths;
    expect(paths).toHaveLength(10);
    expect(paths.filter((p) => p.status === 'FAILURE').map((p) => p.name)).toContain(
      'a:success b:success c:failure c:reverted b:revert-failure → FAILURE',
    );
  });

  it('a diamond: d runs only when both branches succeed; the running sibling finishes before reverts', () => {
    expect(names(diamond)).toEqual([
      'a:success b:success c:success d:success → SUCCESS',
      'a:success b:success c:success d:failure d:reverted b:reverted c:reverted a:reverted → REVERTED',
      'a:success b:success c:failure b:reverted c:reverted a:reverted → REVERTED',
      'a:success b:failure b:reverted c:success c:reverted a:reverted → REVERTED',
      'a:success b:failure b:reverted c:failure c:reverted a:reverted → REVERTED',
      'a:failure a:reverted → REVERTED',
    ]);
  });

  it('a fan-out of 3: every combination of outcomes (2³), interleavings merged', () => {
    const { paths, exhaustive } = flowPaths(fan);
    expect(exhaustive).toBe(true);
    expect(paths).toHaveLength(8);
    expect(paths.filter((p) => p.status === 'SUCCESS')).toHaveLength(1);
    for (const path of paths.filter((p) => p.status === 'REVERTED')) {
      // Everything ran (they start together) and everything is reverted.
      expect(
        path.steps
          .filter((s) => s.outcome === 'reverted')
          .map((s) => s.task)
          .sort(),
      ).toEqual(['a', 'b', 'c']);
    }
  });

  it('an interleaving that changes what runs is a path of its own', () => {
    const mixed = parallel('mixed', [linear('xy', [step('x'), step('y')]), step('z')]);
    expect(names(mixed)).toContain('z:failure x:success x:reverted z:reverted → REVERTED'); // y never ran
    expect(names(mixed)).toHaveLength(7);
  });

  it('a retry scope (retry.times(2)): a second try after each failure, then REVERTED', () => {
    expect(names(retried)).toEqual([
      'a:success b:success → SUCCESS',
      'a:success b:failure b:reverted a:reverted a:success b:success → SUCCESS',
      'a:success b:failure b:reverted a:reverted a:success b:failure b:reverted a:reverted → REVERTED',
      'a:success b:failure b:reverted a:reverted a:failure a:reverted → REVERTED',
      'a:failure a:reverted a:success b:success → SUCCESS',
      'a:failure a:reverted a:success b:failure b:reverted a:reverted → REVERTED',
      'a:failure a:reverted a:failure a:reverted → REVERTED',
    ]);
  });

  it('samples a seeded, bounded set when the flow is large, and the seed repeats it', () => {
    const wide = parallel(
      'wide',
      ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => linear(`l-${n}`, [step(`${n}1`), step(`${n}2`)])),
    );
    const first = flowPaths(wide, { maxPaths: 12, maxStates: 200, seed: 7 });
    expect(first.exhaustive).toBe(false);
    expect(first.seed).toBe(7);
    expect(first.paths).toHaveLength(12);
    expect(new Set(first.paths.map((p) => p.name)).size).toBe(12);
    expect(flowPaths(wide, { maxPaths: 12, maxStates: 200, seed: 7 }).paths.map((p) => p.name)).toEqual(
      first.paths.map((p) => p.name),
    );
  });

  it('maxFailures bounds the injected failures per path', () => {
    expect(flowPaths(fan, { maxFailures: 1 }).paths).toHaveLength(4);
    expect(flowPaths(fan, { maxFailures: 0 }).paths.map((p) => p.status)).toEqual(['SUCCESS']);
  });
});

describe('testFlowPaths on the real engine', () => {
  it.each([
    ['chain', chain, 4],
    ['diamond', diamond, 6],
    ['fan-out', fan, 8],
    ['retry scope', retried, 7],
  ])('keeps the invariants on every path of a %s', async (_name, flow, count) => {
    const report = await testFlowPaths(flow);
    expect(report).toMatchObject({ paths: count, exhaustive: true, violations: [] });
  });

  it('replays failing reverts and per-task retries', async () => {
    const flaky = linear('flaky', [
      task({ name: 'p', retry: { attempts: 2, backoffMs: 10_000 }, execute: () => 1 }),
      step('q'),
    ]);
    expect(await testFlowPaths(chain, { revertFailures: true })).toMatchObject({ paths: 10, violations: [] });
    expect(await testFlowPaths(flaky)).toMatchObject({ paths: 5, violations: [] });
  });

  it('runs the real code where the path succeeds, and finds a revert that undoes the wrong thing', async () => {
    const held = new Set<string>();
    const reserve = (name: string, undo: string) =>
      task({
        name,
        provides: name,
        execute: () => {
          held.add(name);
          return name;
        },
        revert: () => {
          held.delete(undo); // `volume` is wired to undo `ip`: a real bug
        },
      });
    const boot = linear('boot', [reserve('ip', 'ip'), reserve('volume', 'ip'), reserve('vm', 'vm')]);
    const options = {
      beforePath: () => held.clear(),
      check: ({ status }: PathRun) =>
        status === 'REVERTED' && held.size > 0 ? `left behind: ${[...held].join(', ')}` : undefined,
    };
    await expect(testFlowPaths(boot, options)).rejects.toThrow(PathTestError);
    // An injected failure skips the real execute, so only the path where `volume` succeeded leaks.
    const report = await testFlowPaths(boot, { ...options, throws: false });
    expect(report.violations).toEqual([
      {
        path: 'ip:success volume:success vm:failure vm:reverted volume:reverted ip:reverted → REVERTED',
        message: 'left behind: volume',
      },
    ]);
  });

  it('reports an engine that does not follow the model (here: a concurrency limit the model was not told of)', async () => {
    const report = await testFlowPaths(fan, {
      make: () => createEngine({ concurrency: 1 }),
      maxFailures: 0,
      stepTimeoutMs: 100,
      throws: false,
    });
    expect(report.violations).toEqual([
      {
        path: 'a:success b:success c:success → SUCCESS',
        message:
          'at step 1 (a:success): expected the engine to execute `b`, but it did not execute it within 100 ms',
      },
    ]);
  });

  it('finds a revert that breaks on the paths where its own execute failed', async () => {
    const release = task<{ result: { ip: string } }>({
      name: 'allocate',
      provides: 'ip',
      execute: () => ({ ip: '10.0.0.1' }),
      // Assumes a result: on a path where allocate itself fails, `result` is undefined.
      revert: ({ result }) => result!.ip.length,
    });
    const flow = linear('net', [release as never, step('attach', ['ip'])]);
    const error = await testFlowPaths(flow).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PathTestError);
    expect((error as PathTestError).report.violations).toEqual([
      {
        path: 'allocate:failure allocate:reverted → REVERTED',
        message: expect.stringMatching(
          /revert of `allocate` threw \(TypeError: .*\) where the path expects it to succeed/,
        ),
      },
    ]);
    expect((error as Error).message).toContain(
      'Expected every path of flow `net` to keep the invariants, got 1 violation(s)',
    );
  });
});

describe('checkTrace', () => {
  const start = (task: string, kind: 'execute' | 'revert' = 'execute'): TraceEvent => ({
    at: 'start',
    kind,
    task,
  });
  const end = (task: string, ok = true, kind: 'execute' | 'revert' = 'execute'): TraceEvent => ({
    at: 'end',
    kind,
    task,
    ok,
  });
  const run = (task: string, ok = true) => [start(task), end(task, ok)];
  const undo = (task: string, ok = true) => [start(task, 'revert'), end(task, ok, 'revert')];

  it('accepts a sound trace', () => {
    expect(
      checkTrace(chain, [...run('a'), ...run('b', false), ...undo('b'), ...undo('a')], 'REVERTED'),
    ).toEqual([]);
    expect(checkTrace(chain, [...run('a'), ...run('b'), ...run('c')], 'SUCCESS')).toEqual([]);
  });

  it('finds a task started before its dependency succeeded', () => {
    expect(checkTrace(chain, [start('a'), start('b'), end('a'), end('b'), ...run('c')], 'SUCCESS')).toEqual([
      '`b` started before its dependency `a` succeeded',
    ]);
  });

  it('finds reverts in the wrong order, twice, or of a task that never ran', () => {
    expect(
      checkTrace(chain, [...run('a'), ...run('b', false), ...undo('a'), ...undo('b')], 'REVERTED'),
    ).toEqual(['`a` was reverted before its dependent `b` was reverted']);
    expect(
      checkTrace(
        chain,
        [...run('a'), ...run('b', false), ...undo('b'), ...undo('b'), ...undo('a')],
        'REVERTED',
      ),
    ).toEqual(['`b` was reverted twice']);
    expect(checkTrace(chain, [...run('a', false), ...undo('a'), ...undo('c')], 'REVERTED')).toEqual([
      '`c` was reverted but never ran',
    ]);
  });

  it('finds a task left unreverted, a revert past a failed one, and a wrong final status', () => {
    expect(checkTrace(chain, [...run('a'), ...run('b', false), ...undo('b')], 'REVERTED')).toEqual([
      '`a` ran but was not reverted (the run ended REVERTED)',
    ]);
    expect(
      checkTrace(chain, [...run('a'), ...run('b', false), ...undo('b', false), ...undo('a')], 'FAILURE'),
    ).toEqual(['`a` was reverted although the revert of its dependent `b` failed']);
    expect(
      checkTrace(chain, [...run('a'), ...run('b', false), ...undo('b'), ...undo('a')], 'SUCCESS'),
    ).toEqual([
      'the run ended SUCCESS although `a` was reverted',
      'the run ended SUCCESS although `b` failed',
      'the run ended SUCCESS although `b` was reverted',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_BUSY_TASKS } from '../../src/compile/compile.js';
import {
  compile,
  createEngine,
  FlowFailedError,
  graph,
  linear,
  parallel,
  type Task,
  task,
} from '../../src/index.js';

/** Wide flows: the spawned shape, a task machine per busy task, at most MAX_BUSY_TASKS at once. */
describe('wide flows (the spawned shape)', () => {
  const recorder = () => {
    const log: string[] = [];
    let busy = 0;
    let peak = 0;
    const make = (
      name: string,
      extra: { requires?: string[]; provides?: string; fail?: boolean } = {},
    ): Task =>
      task({
        name,
        ...(extra.requires ? { requires: extra.requires } : {}),
        ...(extra.provides ? { provides: extra.provides } : {}),
        async execute() {
          busy += 1;
          peak = Math.max(peak, busy);
          log.push(name);
          await new Promise((r) => setImmediate(r));
          busy -= 1;
          if (extra.fail) throw new Error(`${name} broke`);
          return name;
        },
        revert: () => void log.push(`${name} reverted`),
      });
    return { log, make, peak: () => peak };
  };

  it('runs a 300-wide fan-out with at most MAX_BUSY_TASKS tasks at once, each task once, join last', async () => {
    const { log, make, peak } = recorder();
    const middle = Array.from({ length: 300 }, (_, i) => make(`m${i}`));
    const flow = linear('wide', [make('start'), parallel('middle', middle), make('join')]);
    expect(compile(flow).shape).toBe('spawned');
    const engine = createEngine();
    await engine.run(flow, {});
    expect(log[0]).toBe('start');
    expect(log.at(-1)).toBe('join');
    expect(new Set(log).size).toBe(302);
    expect(log).toHaveLength(302);
    expect(peak()).toBe(MAX_BUSY_TASKS);
    await engine.close();
  });

  it('reverts a wide fan-out after a failure: every task that ran once, start last, none that never ran', async () => {
    const { log, make } = recorder();
    const middle = Array.from({ length: 60 }, (_, i) => make(`m${i}`, { fail: i === 45 }));
    const flow = linear('wide-fail', [make('start'), parallel('middle', middle), make('join')]);
    const engine = createEngine();
    await expect(engine.run(flow, {})).rejects.toBeInstanceOf(FlowFailedError);
    const ran = log.filter((e) => !e.endsWith('reverted'));
    const reverted = log.filter((e) => e.endsWith('reverted')).map((e) => e.replace(' reverted', ''));
    expect(ran).not.toContain('join');
    expect(reverted.sort()).toEqual([...ran].sort());
    expect(log.at(-1)).toBe('start reverted');
    await engine.close();
  });

  it('runs a 300-task random graph: every task once, each after all it requires', async () => {
    const { log, make } = recorder();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const needs = new Map<string, string[]>();
    const tasks = Array.from({ length: 300 }, (_, i) => {
      const requires =
        i === 0 ? [] : [...new Set([Math.floor(random() * i), Math.floor(random() * i)])].map((j) => `v${j}`);
      needs.set(
        `r${i}`,
        requires.map((v) => `r${v.slice(1)}`),
      );
      return make(`r${i}`, { requires, provides: `v${i}` });
    });
    const flow = graph('rand300', tasks);
    expect(compile(flow).shape).toBe('spawned');
    const engine = createEngine();
    await engine.run(flow, {});
    expect(log).toHaveLength(300);
    const position = new Map(log.map((name, i) => [name, i]));
    for (const [name, deps] of needs)
      for (const dep of deps) expect(position.get(dep)!).toBeLessThan(position.get(name)!);
    await engine.close();
  });
});

import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { compile } from '../../src/compile/compile.js';
import { plan, step } from '../../src/engine/distributed-step.js';
import { linear, task } from '../../src/index.js';

/** What a distributed step writes: the parts of the tasks it changed, or every task's (`whole`). */
describe('distributed step: the parts a write carries', () => {
  const flow = linear('parts', [
    task({ name: 'a', execute: () => 1 }),
    task({ name: 'b', execute: () => 2 }),
    task({ name: 'c', execute: () => 3 }),
  ]);
  const compiled = compile(flow);
  const [first, actions] = initialTransition(compiled.machine, { runId: 'r', inputs: {}, at: 1_000 });
  const created = plan(compiled, undefined, first, actions, 1_000);
  const names = (set: Record<string, string>) => Object.keys(set).sort();

  it("a create carries every task's record, and a child part for the running task only", () => {
    expect(names(created.set)).toEqual(
      ['c:a', 'concurrency', 'core', 'failures', 'inputs', 'queue', 't:a', 't:b', 't:c'].sort(),
    );
    expect(JSON.parse(created.set['c:a']!)).toMatchObject({ id: 'execute:a', src: 'execute' });
    // The core holds no child actors: its size does not grow with the tasks running.
    expect(JSON.parse(created.set.core!)).not.toHaveProperty('children');
  });

  it("a step carries the changed tasks' parts; `whole` carries every task's", () => {
    const done = { type: 'xstate.done.actor.execute:a', output: { value: 1, at: 2_000 } };
    const changed = step(compiled, first, done, 2_000)!;
    expect(names(changed.set)).toEqual(['c:a', 'c:b', 'core', 't:a', 't:b']);
    expect(changed.set['c:a']).toBe('null');
    expect(JSON.parse(changed.set['c:b']!)).toMatchObject({ id: 'execute:b' });
    const whole = step(compiled, first, done, 2_000, true)!;
    expect(names(whole.set)).toEqual(
      ['c:a', 'c:b', 'c:c', 'core', 'failures', 'queue', 't:a', 't:b', 't:c'].sort(),
    );
  });
});

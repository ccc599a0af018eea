import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { compile, findRecord, parallel, task } from '../../src/index.js';

/**
 * `findRecord(context, name)` reads a task's record from a snapshot's context without the flow (the
 * README's "Transitions are pure"): records live in groups of 32, so a tool holding only a snapshot
 * finds a task in any group, and gets `undefined` for a name the run does not have.
 */
describe('findRecord', () => {
  it('finds a task in any group of a snapshot, and nothing for an unknown name', () => {
    const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const { machine } = compile(
      parallel(
        'forty',
        names.map((name) => task({ name, execute: () => name })),
      ),
    );
    const [snapshot] = initialTransition(machine, { runId: 'r', inputs: {}, at: 7 });
    expect(snapshot.context.tasks.length).toBe(2);
    expect(findRecord(snapshot.context, 't0')).toEqual({ s: 'RUNNING', a: 1, st: 7 });
    expect(findRecord(snapshot.context, 't39')).toEqual({ s: 'RUNNING', a: 1, st: 7 });
    expect(findRecord(snapshot.context, 'nope')).toBeUndefined();
    // A name found on an object's prototype is not a task.
    expect(findRecord(snapshot.context, 'toString')).toBeUndefined();
  });
});

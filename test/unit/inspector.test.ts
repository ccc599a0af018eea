import { describe, expect, it } from 'vitest';
import type { ActorRefLike, AnyActorRef, InspectionEvent } from 'xstate';
import { createEngine, FlowFailedError, linear, type RunContext, task } from '../../src/index.js';

/** The engine's `inspect` option is XState's inspection observer: what the Stately inspector consumes. */
describe('engine inspect option', () => {
  const flow = linear('inspected', [
    task({ name: 'a', provides: 'x', execute: () => 1, revert: () => {} }),
    task({
      name: 'b',
      requires: ['x'],
      optional: ['mode'],
      execute: ({ mode }) => {
        if (mode === 'fail') throw new Error('b broke');
        return 2;
      },
    }),
  ]);
  const isRoot = (ref: ActorRefLike, rootId: string) => ref.sessionId === rootId;
  // Inspection events type their refs as `ActorRefLike`; the engine's are full actor refs, with ids.
  const idOf = (ref: ActorRefLike) => (ref as AnyActorRef).id;

  it('receives @xstate.snapshot and @xstate.event for the run actor and its task children', async () => {
    const events: InspectionEvent[] = [];
    const engine = createEngine({ inspect: (e) => events.push(e) });
    await engine.run(flow, {}, { id: 'run-1' });
    await engine.close();

    const snapshots = events.filter((e) => e.type === '@xstate.snapshot');
    const root = snapshots.filter((e) => isRoot(e.actorRef, e.rootId));
    const last = root.at(-1)!.snapshot as unknown as { context: RunContext };
    expect(last.context).toMatchObject({
      runId: 'run-1',
      status: 'SUCCESS',
      tasks: [{ a: { s: 'SUCCESS' }, b: { s: 'SUCCESS' } }],
    });
    // Each task's execute is a child actor of the run, invoked by name, with its own snapshots.
    const children = snapshots.filter((e) => !isRoot(e.actorRef, e.rootId)).map((e) => idOf(e.actorRef));
    expect([...new Set(children)]).toEqual(['execute:a', 'execute:b']);
    expect(
      snapshots.find((e) => idOf(e.actorRef) === 'execute:a' && e.snapshot.status === 'done')?.snapshot,
    ).toMatchObject({
      output: { value: 1, at: expect.any(Number) },
    });

    // The children's completions reach the run actor as events, sent by the child.
    const done = events.filter(
      (e): e is Extract<InspectionEvent, { type: '@xstate.event' }> =>
        e.type === '@xstate.event' && e.event.type.startsWith('xstate.done.actor.'),
    );
    expect(
      done.map((e) => [e.sourceRef && idOf(e.sourceRef), e.event.type, isRoot(e.actorRef, e.rootId)]),
    ).toEqual([
      ['execute:a', 'xstate.done.actor.execute:a', true],
      ['execute:b', 'xstate.done.actor.execute:b', true],
    ]);
    // Every event belongs to this run's actor tree.
    expect(new Set(events.map((e) => e.rootId)).size).toBe(1);
  });

  it('takes an observer object too, and shows reverts as their own children', async () => {
    const seen: string[] = [];
    const engine = createEngine({
      inspect: {
        next: (e) => {
          if (e.type === '@xstate.actor' && !isRoot(e.actorRef, e.rootId)) seen.push(idOf(e.actorRef));
        },
      },
    });
    await expect(engine.run(flow, { mode: 'fail' }, { id: 'run-2' })).rejects.toThrow(FlowFailedError);
    await engine.close();
    expect(seen).toEqual(['execute:a', 'execute:b', 'revert:b', 'revert:a']);
  });
});

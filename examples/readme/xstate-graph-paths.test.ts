// README "Test every path of your flow": walking a compiled flow with XState's own graph tools, as a
// test file of your own. The walk runs no task: it drives the machine with the events its actors send.
import { compile, linear, parallel, task } from 'taskweave';
import { flowTraversal } from 'taskweave/testing';
import { expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';

// The boot-server flow of path-testing.test.ts.
const create = (name: string, kind: string, requires: string[] = []) =>
  task({ name, requires, provides: kind, execute: () => `${kind}-1`, revert: () => {} });
const bootServer = linear('boot-server', [
  create('allocate-ip', 'ip', ['network']),
  parallel('prepare', [create('create-volume', 'volume'), create('create-port', 'port', ['ip'])]),
  create('boot-vm', 'vm', ['volume', 'port']),
]);

it('xstate/graph walks boot-server: the paths testFlowPaths replays', () => {
  const { input, serializeState, events, toState, stepOf } = flowTraversal(bootServer, {
    inputs: { network: 'net-1' }, // also: results, concurrency, maxFailures, revertFailures
  });
  const { machine } = compile(bootServer);
  const paths = getShortestPaths(machine, { input, serializeState, events, toState });
  expect(paths).toHaveLength(6); // one per way a run can end
  const outcomes = paths.map((p) => p.steps.flatMap((s) => stepOf(s.event) ?? []));
  expect(outcomes[0]).toEqual([
    { task: 'allocate-ip', outcome: 'failure' },
    { task: 'allocate-ip', outcome: 'reverted' },
  ]);
  // Every interleaving of the parallel tasks, ending in the same 6 states.
  const simple = getSimplePaths(machine, { input, serializeState, events, toState });
  expect(new Set(simple.map((p) => serializeState(p.state))).size).toBe(6);
  console.log(`${paths.length} shortest paths, ${simple.length} simple paths`);
});

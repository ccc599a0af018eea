import { describe, expect, it } from 'vitest';
import { type FlowRun, graph, task } from '../../src/index.js';
import { waitFor } from '../support/flows.js';
import { deferred, distributedMode, newEngine } from './engine-support.js';

/**
 * The concurrency limit also holds for the tasks a dependency's completion starts. When a task
 * completes, the machine starts its dependents in that same step (their lanes listen for the
 * completion) instead of going through the scheduler's queue; the parallel-sibling tests never take
 * that path, so a limit skipped there went unnoticed (issue 16, mutant 1: `concurrency: 1` on
 * a → {b, c} ran b and c at once).
 */

/** The most tasks the run reported RUNNING at once (task events are emitted as each state is recorded). */
function mostRunning(run: FlowRun<any>): () => number {
  const running = new Set<string>();
  let most = 0;
  run.on('task', ({ task: name, state }) => {
    if (state === 'RUNNING') running.add(name);
    else running.delete(name);
    most = Math.max(most, running.size);
  });
  return () => most;
}

/** a → {b, c, d}: b continues a's lane, c and d listen for a's completion in lanes of their own. */
function fanOut(name: string, leafExecute: (leaf: string) => Promise<void>) {
  const leaf = (leafName: string) =>
    task({ name: leafName, requires: 'root', execute: () => leafExecute(leafName) });
  return graph(name, [
    task({ name: 'a', provides: 'root', execute: () => 'r' }),
    leaf('b'),
    leaf('c'),
    leaf('d'),
  ]);
}

describe('concurrency limit when a dependency finishes', () => {
  it('with concurrency 1, starts the dependents of a finished task one at a time', async () => {
    const executing = new Set<string>();
    let mostExecuting = 0;
    const order: string[] = [];
    const flow = fanOut('fan-out-one', async (name) => {
      executing.add(name);
      mostExecuting = Math.max(mostExecuting, executing.size);
      order.push(name);
      // Stay busy for a turn, so a second task started meanwhile would overlap.
      await new Promise((resolve) => setImmediate(resolve));
      executing.delete(name);
    });
    const run = newEngine({ concurrency: 1 }).start(flow);
    const most = mostRunning(run);
    expect(await run.result).toEqual({ root: 'r' });
    expect(most()).toBe(1);
    expect(mostExecuting).toBe(1);
    expect([...order].sort()).toEqual(['b', 'c', 'd']);
  });

  it('with concurrency 2, never has three dependents running at once', async () => {
    const gates = new Map(['b', 'c', 'd'].map((n) => [n, deferred()]));
    const started: string[] = [];
    const twoStarted = deferred();
    const flow = fanOut('fan-out-two', async (name) => {
      started.push(name);
      if (started.length === 2) twoStarted.resolve();
      await gates.get(name)!.promise;
    });
    const run = newEngine({ concurrency: 2 }).start(flow);
    const most = mostRunning(run);
    await twoStarted.promise;
    // Distributed, a worker may start a task before the starting engine hears of its RUNNING (reports
    // come through the stored history): wait for the reports, then check.
    if (distributedMode) await waitFor(() => most() === 2);
    // Two hold their slots; the third is recorded RUNNING only once one of them ends.
    expect(most()).toBe(2);
    gates.get(started[0]!)!.resolve();
    for (const gate of gates.values()) gate.resolve();
    await run.result;
    expect(most()).toBe(2);
    expect([...started].sort()).toEqual(['b', 'c', 'd']);
  });
});

import { describe, expect, it } from 'vitest';
import { linear, task } from '../../src/index.js';
import { deferred, newEngine, nextTaskEvent, saving, suspendNow } from './engine-support.js';

function gated(log: string[], name: string, gate: Promise<void>) {
  return task({
    name,
    async execute() {
      log.push(name);
      await gate;
    },
    revert: () => void log.push(`${name} reverted`),
  });
}

describe('engine.revert of a suspended run', () => {
  it('reverts a suspended run: only what ran', async () => {
    const log: string[] = [];
    const gate = deferred();
    const flow = linear('rollback-susp', [saving(log, 'a'), gated(log, 'b', gate.promise), saving(log, 'c')]);
    const engine = newEngine();
    const run = engine.start(flow, {}, { id: 'rb-2' });
    await nextTaskEvent(run, 'b', 'RUNNING');
    const { suspended } = await suspendNow(engine, run);
    gate.resolve();
    await suspended;
    await engine.revert('rb-2');
    expect(log).toEqual(['a', 'b', 'b reverted', 'a reverted']);
  });
});

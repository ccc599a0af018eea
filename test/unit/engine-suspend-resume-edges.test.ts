import { describe, expect, it } from 'vitest';
import { createEngine, linear, memoryStore, RunSuspendedError, task } from '../../src/index.js';

describe('suspend and resume edge cases', () => {
  it('a task that throws while the run is suspending is retried, not reverted', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const flow = linear('suspend-retry', [
      task({
        name: 'a',
        retry: { attempts: 2 },
        async execute(_args, ctx) {
          log.push(`a#${ctx.attempt}`);
          if (ctx.attempt === 1) {
            await gate;
            throw new Error('transient');
          }
          return 'a';
        },
        revert: () => void log.push('a reverted'),
      }),
      task({ name: 'b', execute: () => void log.push('b') }),
    ]);
    const engine = createEngine();
    const run = engine.start(flow, {}, { id: 'sr-1' });
    await new Promise<void>((r) => run.on('task', (e) => e.task === 'a' && e.state === 'RUNNING' && r()));
    const suspended = run.suspend();
    release();
    await suspended;
    await expect(run.result).rejects.toBeInstanceOf(RunSuspendedError);
    expect(log).toEqual(['a#1', 'a#2']);
    const resumed = await engine.resume('sr-1');
    await resumed.result;
    expect(log).toEqual(['a#1', 'a#2', 'b']);
    await engine.close();
  });

  it('two overlapping resumes of one run on one engine join: one FlowRun, each task once', async () => {
    const store = memoryStore();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const flow = linear('overlap', [
      task({
        name: 'a',
        async execute() {
          log.push('a');
          await gate;
        },
      }),
      task({ name: 'b', execute: () => void log.push('b') }),
    ]);
    const first = createEngine({ store, flows: [flow] });
    first.start(flow, {}, { id: 'ov-1' }).result.catch(() => {});
    await new Promise<void>((r) => {
      // Stored with its first snapshot (task a RUNNING): the write that created it.
      const check = async () => ((await store.load('ov-1'))?.parts.core ? r() : setImmediate(check));
      void check();
    });
    await first.close();
    const second = createEngine({ store, flows: [flow] });
    const [x, y] = await Promise.all([second.resume('ov-1'), second.resume('ov-1')]);
    expect(y).toBe(x);
    release();
    await x.result;
    expect((await store.load('ov-1'))?.token).toBe(2); // one takeover, not two
    expect((await store.load('ov-1'))?.meta.status).toBe('SUCCESS');
    expect(log.filter((e) => e === 'b')).toHaveLength(1);
    await second.close();
  });

  it('resuming a finished run reads its outcome without taking it over (token and owner unchanged)', async () => {
    const store = memoryStore();
    const flow = linear('done-already', [task({ name: 'a', provides: 'x', execute: () => 1 })]);
    const first = createEngine({ store, flows: [flow], id: 'first' });
    await first.run(flow, {}, { id: 'finished-1' });
    const before = await store.load('finished-1');
    const second = createEngine({ store, flows: [flow], id: 'second' });
    const run = await second.resume('finished-1');
    expect(await run.result).toEqual({ x: 1 });
    expect(run.status).toBe('SUCCESS');
    expect(await store.load('finished-1')).toEqual(before);
    expect(before?.meta.owner).toBe('first');
    await Promise.all([first.close(), second.close()]);
  });
});

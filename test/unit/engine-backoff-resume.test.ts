import { describe, expect, it } from 'vitest';
import { createEngine, EngineClosedError, linear, memoryStore, task } from '../../src/index.js';

/** XState drops `after` timers on restore; the backoff deadline lives in context and survives. */
describe('a backoff survives rehydration', () => {
  it('resumes a RETRYING task on another engine: next attempt at the stored deadline, same key', async () => {
    const store = memoryStore();
    const attempts: { attempt: number; key: string; at: number }[] = [];
    const flow = linear('flaky-flow', [
      task({
        name: 'flaky',
        retry: { attempts: 3, backoffMs: 200 },
        execute(_args, ctx) {
          attempts.push({ attempt: ctx.attempt, key: ctx.idempotencyKey, at: Date.now() });
          if (ctx.attempt === 1) throw new Error('first attempt fails');
          return 'ok';
        },
      }),
    ]);
    const first = createEngine({ store, flows: [flow] });
    const run = first.start(flow, {}, { id: 'flaky-1' });
    await new Promise<void>((resolve) => run.on('task', (e) => e.state === 'RETRYING' && resolve()));
    // Wait until the RETRYING state (with its deadline) is stored, then drop this engine.
    let deadline: number | undefined;
    while (deadline === undefined) {
      const stored = await store.load('flaky-1');
      const record = JSON.parse(stored?.parts['t:flaky'] ?? '{}') as { s?: string; at?: number };
      if (record.s === 'RETRYING') deadline = record.at;
      else await new Promise((r) => setImmediate(r));
    }
    await first.close();
    await expect(run.result).rejects.toBeInstanceOf(EngineClosedError);

    const second = createEngine({ store, flows: [flow] });
    const resumed = await second.resume('flaky-1');
    await expect(resumed.result).resolves.toEqual({});
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(attempts[1]!.key).toBe(attempts[0]!.key);
    expect(attempts[1]!.at).toBeGreaterThanOrEqual(deadline!);
    await second.close();
  });
});

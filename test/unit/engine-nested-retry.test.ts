import { describe, expect, it } from 'vitest';
import { FlowFailedError, linear, retry, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

describe('nested retry controllers', () => {
  it('an outer forEach around an inner times(2) tries each host twice, then fails, each try with its own key', async () => {
    const tries: { host: string; key: string }[] = [];
    const work = task({
      name: 'work',
      requires: 'host',
      execute: ({ host }: { host: string }, ctx) => {
        tries.push({ host, key: ctx.idempotencyKey });
        throw new Error(`${host} refused`);
      },
    });
    const flow = linear('outer', [linear('inner', [work], { retry: retry.times(2) })], {
      retry: retry.forEach(['h1', 'h2', 'h3'], { provides: 'host' }),
    });
    const error = await rejectionOf(newEngine().run(flow, {}, { id: 'nested' }));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(tries.map((t) => t.host)).toEqual(['h1', 'h1', 'h2', 'h2', 'h3', 'h3']);
    expect(new Set(tries.map((t) => t.key)).size).toBe(6);
  });
});

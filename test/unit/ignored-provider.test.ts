import { describe, expect, it } from 'vitest';
import { graph, task } from '../../src/index.js';
import { newEngine, saving, taskStates } from './engine-support.js';

/**
 * A task whose required argument comes from a task a decider skipped is skipped too (IGNORED), even
 * when its other dependencies ran: starting it would run it without an input it requires. Found by
 * Stryker (issue 16): the readiness check without the IGNORED-provider test survived every test, since
 * the existing decider tests only had tasks whose every dependency was skipped.
 */
describe('a task that requires what a skipped task provides', () => {
  it('is IGNORED, not started without its input, when another dependency succeeded', async () => {
    const log: string[] = [];
    const flow = graph(
      'skipped-provider',
      [
        saving(log, 'a', { provides: 'a' }),
        saving(log, 'b', { provides: 'b' }),
        saving(log, 'both', { requires: ['a', 'b'] }),
      ],
      { links: [['a', 'b', () => false]] },
    );
    const run = newEngine().start(flow);
    const states = taskStates(run);
    expect(await run.result).toEqual({ a: 'a' });
    expect(run.status).toBe('SUCCESS');
    expect(log).toEqual(['a']);
    expect(states).toEqual(['a RUNNING', 'a SUCCESS', 'b IGNORED', 'both IGNORED']);
  });

  it('still runs when what the skipped task provides is only optional for it (its other inputs as given)', async () => {
    const seen: unknown[] = [];
    const log: string[] = [];
    const flow = graph(
      'skipped-optional',
      [
        saving(log, 'a', { provides: 'a' }),
        saving(log, 'b', { provides: 'b' }),
        task({
          name: 'uses',
          // `region` comes from the run's inputs, not from a task: only task results can be skipped.
          requires: ['a', 'region'],
          optional: 'b',
          execute: ({ a, b, region }) => void seen.push({ a, b, region }),
        }),
      ],
      { links: [['a', 'b', () => false]] },
    );
    const run = newEngine().start(flow, { region: 'eu' });
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(log).toEqual(['a']);
    expect(seen).toEqual([{ a: 'a', b: undefined, region: 'eu' }]);
  });

  it('sees undefined for an optional argument a skipped task with several provides would have given', async () => {
    const seen: unknown[] = [];
    const flow = graph(
      'skipped-multi',
      [
        task({ name: 'gate', provides: 'go', execute: () => 'no' }),
        task({ name: 'pair', provides: ['left', 'right'], execute: () => ({ left: 1, right: 2 }) }),
        task({
          name: 'uses',
          requires: 'go',
          optional: 'left',
          execute: ({ go, left }) => void seen.push({ go, left }),
        }),
      ],
      { links: [['gate', 'pair', () => false]] },
    );
    const run = newEngine().start(flow);
    expect(await run.result).toEqual({ go: 'no' });
    expect(seen).toEqual([{ go: 'no', left: undefined }]);
  });
});

import { describe, expect, it } from 'vitest';
import { graph, retry, task } from '../../src/index.js';
import { newEngine } from './engine-support.js';

/**
 * A task a decider skipped on a scope's first try, and that runs on its second, counts as done only
 * once it has run: the run does not end SUCCESS while it is still to run. Found by Stryker (issue 16):
 * a skipped task reset for the retry stayed counted as settled, so the run ended one task early.
 */
describe('a task skipped on the first try of a scope and run on the second', () => {
  it('runs before the run ends SUCCESS', async () => {
    const log: string[] = [];
    let tries = 0;
    const flow = graph(
      'skip-then-run',
      [
        task({ name: 'first', provides: 'try', requires: 'x', execute: ({ x }) => x }),
        task({
          name: 'second-try-only',
          execute: async () => {
            await new Promise((resolve) => setImmediate(resolve));
            log.push('second-try-only');
          },
        }),
        task({
          name: 'fails-once',
          requires: 'try',
          execute: () => {
            tries += 1;
            log.push(`fails-once ${tries}`);
            if (tries === 1) throw new Error('first try fails');
          },
        }),
      ],
      {
        links: [['first', 'second-try-only', (history) => history.first === 2]],
        retry: retry.times(2, { provides: 'x' }),
      },
    );
    const engine = newEngine();
    const run = engine.start(flow);
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(log.sort()).toEqual(['fails-once 1', 'fails-once 2', 'second-try-only']);
    const stored = await engine.get(run.id);
    expect(Object.fromEntries(Object.entries(stored!.tasks).map(([name, t]) => [name, t.state]))).toEqual({
      first: 'SUCCESS',
      'second-try-only': 'SUCCESS',
      'fails-once': 'SUCCESS',
    });
  });
});

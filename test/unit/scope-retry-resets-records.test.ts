import { describe, expect, it } from 'vitest';
import { graph, retry, task } from '../../src/index.js';
import { newEngine } from './engine-support.js';

/**
 * A retry scope's second try starts its tasks afresh: their records go back to what a new run holds
 * (PENDING, attempt 0, no result, no times), so a task the second try does not run (a decider skips
 * it) is stored and reported without anything of its first try. Found by Stryker (issue 16): keeping
 * the old record on the reset survived every test, since a re-run task overwrites it anyway.
 */
describe('the records of a retried scope', () => {
  it('go back to PENDING with attempt 0: a task skipped on the second try keeps no result of the first', async () => {
    const log: string[] = [];
    const flow = graph(
      'retry-then-skip',
      [
        task({ name: 'first', provides: 'try', requires: 'x', execute: ({ x }) => x }),
        task({
          name: 'only-once',
          provides: 'once',
          execute: () => {
            log.push('only-once');
            return 'done';
          },
        }),
        task({
          name: 'fails-once',
          requires: 'try',
          execute: ({ try: n }) => {
            log.push(`fails-once ${n}`);
            if (n === 1) throw new Error('first try fails');
          },
        }),
      ],
      {
        links: [['first', 'only-once', (history) => history.first === 1]],
        retry: retry.times(2, { provides: 'x' }),
      },
    );
    const engine = newEngine();
    const run = engine.start(flow);
    const events: string[] = [];
    run.on('task', (e) => e.task === 'only-once' && events.push(`${e.state} ${e.attempt}`));
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(log.sort()).toEqual(['fails-once 1', 'fails-once 2', 'only-once']);
    expect(events).toEqual(['RUNNING 1', 'SUCCESS 1', 'REVERTING 1', 'REVERTED 1', 'PENDING 0', 'IGNORED 0']);
    const stored = (await engine.get(run.id))!.tasks['only-once'];
    expect(stored).toEqual({ state: 'IGNORED', attempt: 0 });
  });
});

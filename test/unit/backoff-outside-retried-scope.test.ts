import { describe, expect, it } from 'vitest';
import { linear, parallel, retry, task } from '../../src/index.js';
import { newEngine, nextTaskEvent } from './engine-support.js';

/**
 * A scope's retry stops only its own work: a task outside the scope that waits for its next attempt
 * (in backoff) keeps waiting and runs that attempt, as a task outside the scope that is running keeps
 * running. Before the fix the retry failed it without a failure to handle: it stayed FAILURE, neither
 * retried nor reverted, and the run never finished (found while checking a Stryker survivor, issue 16).
 */
describe('a task in backoff outside the scope being retried', () => {
  it('gets its next attempt; the run succeeds', async () => {
    const log: string[] = [];
    let outsideTries = 0;
    let scopeTries = 0;
    const outsideWaits = { promise: Promise.resolve() };
    const flow = parallel('backoff-beside-retry', [
      linear(
        'scope',
        [
          task({
            name: 'in-scope',
            async execute() {
              scopeTries += 1;
              log.push(`in-scope ${scopeTries}`);
              // Fails the first time only once `outside` waits for its second attempt.
              await outsideWaits.promise;
              if (scopeTries === 1) throw new Error('in-scope fails once');
            },
            revert: () => void log.push('in-scope reverted'),
          }),
        ],
        { retry: retry.times(2) },
      ),
      task({
        name: 'outside',
        // Long enough to still be waiting when the scope's retry begins.
        retry: { attempts: 2, backoffMs: 300 },
        execute: () => {
          outsideTries += 1;
          log.push(`outside ${outsideTries}`);
          if (outsideTries === 1) throw new Error('outside fails once');
        },
        revert: () => void log.push('outside reverted'),
      }),
    ]);
    const engine = newEngine();
    const run = engine.start(flow);
    outsideWaits.promise = nextTaskEvent(run, 'outside', 'RETRYING').then(() => {});
    const outside: string[] = [];
    run.on('task', (e) => e.task === 'outside' && outside.push(`${e.state} ${e.attempt}`));
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(log.filter((l) => l.startsWith('in-scope'))).toEqual([
      'in-scope 1',
      'in-scope reverted',
      'in-scope 2',
    ]);
    expect(log.filter((l) => l.startsWith('outside'))).toEqual(['outside 1', 'outside 2']);
    expect(outside).toEqual(['RUNNING 1', 'RETRYING 1', 'RUNNING 2', 'SUCCESS 2']);
    expect((await engine.get(run.id))!.tasks.outside).toMatchObject({ state: 'SUCCESS', attempt: 2 });
  });
});

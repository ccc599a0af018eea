import { describe, expect, it } from 'vitest';
import { graph, task } from '../../src/index.js';
import { newEngine, saving, taskStates } from './engine-support.js';

/**
 * A decider is asked only with the results of its link's sources: never while one of them has not
 * succeeded (it would see `undefined` for it and decide on nothing). A source skipped by another
 * decider leaves the link without a decision: the target runs if its other dependencies let it.
 * Found by Stryker (issue 16): asking every decider regardless survived every test.
 */
describe('a decider one of whose link sources was skipped', () => {
  it('is not asked, even when its other source succeeded; the target still runs', async () => {
    const asked: unknown[] = [];
    const log: string[] = [];
    const flow = graph(
      'decider-source-skipped',
      [
        saving(log, 'root', { provides: 'r' }),
        // The link below comes from this sub-flow's ends: `skipped` (a decider says no) and `ran`.
        graph('sources', [saving(log, 'start'), saving(log, 'skipped'), saving(log, 'ran')], {
          links: [
            ['start', 'skipped', () => false],
            ['start', 'ran'],
          ],
        }),
        task({ name: 'target', requires: 'r', execute: ({ r }) => void log.push(`target(${r})`) }),
      ],
      {
        links: [
          [
            'sources',
            'target',
            (history) => {
              asked.push(history);
              return false;
            },
          ],
        ],
      },
    );
    const run = newEngine().start(flow);
    const states = taskStates(run);
    await run.result;
    expect(run.status).toBe('SUCCESS');
    expect(asked).toEqual([]);
    expect(log.sort()).toEqual(['ran', 'root', 'start', 'target(root)']);
    expect(states).toContain('skipped IGNORED');
    expect(states).toContain('target SUCCESS');
  });
});

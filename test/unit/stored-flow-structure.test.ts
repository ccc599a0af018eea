import { describe, expect, it } from 'vitest';
import { graph, linear, retry, task, toMermaid } from '../../src/index.js';
import { newEngine } from './engine-support.js';

/**
 * What the flow catalog stores for a run's flow (`engine.get(id).flow`): each task's requires,
 * optional and provides, the edges and which of them a decider guards, the retry scopes with their
 * controllers described, and the lanes. An operator's tools draw a stored run from it without the
 * flow's code, so the drawing must be the flow's own. Found by Stryker (issue 16): every field could
 * be emptied without a failing test.
 */
describe('the stored structure of a run’s flow', () => {
  it('holds tasks, edges, decided edges, scopes and lanes, and draws as the flow itself', async () => {
    const t = (name: string, options: { requires?: string; optional?: string; provides?: string } = {}) =>
      task({ name, ...options, execute: () => name });
    const flow = graph(
      'stored',
      [
        t('a', { provides: 'x' }),
        linear('scope', [t('b', { requires: 'x', optional: 'hint', provides: 'y' }), t('c')], {
          retry: retry.times(2, { revertAll: true }),
        }),
        t('d'),
      ],
      { links: [['a', 'd', () => true]] },
    );
    const engine = newEngine();
    const run = engine.start(flow, {}, { id: 'stored-1' });
    await run.result;
    const stored = (await engine.get('stored-1'))!.flow!;
    expect(stored.tasks).toEqual([
      { name: 'a', requires: [], optional: [], provides: ['x'] },
      { name: 'b', requires: ['x'], optional: ['hint'], provides: ['y'] },
      { name: 'd', requires: [], optional: [], provides: [] },
      { name: 'c', requires: [], optional: [], provides: [] },
    ]);
    expect(stored.edges).toEqual([
      ['a', 'b'],
      ['a', 'd'],
      ['b', 'c'],
    ]);
    expect(stored.decided).toEqual([['a', 'd']]);
    expect(stored.scopes).toEqual([{ name: 'scope', retry: 'times(2, revertAll)', tasks: ['b', 'c'] }]);
    expect(stored.lanes).toEqual([['a', 'b', 'c'], ['d']]);
    expect(toMermaid(stored)).toBe(toMermaid(flow));
  });
});

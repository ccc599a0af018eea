import { describe, expect, it } from 'vitest';
import { FlowFailedError, graph, linear, parallel, task } from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/**
 * Past 32 dependency chains, chains share the machine's 32 lanes and a shared lane runs one task at a
 * time: at most 32 tasks of one run are busy at once (README, "32 lanes"), whether executing or
 * reverting, and every task still runs, and reverts, exactly once. Small flows, here rather than in
 * engine-wide.test.ts (which the mutation run leaves out for its seconds), so that Stryker's mutants of
 * the shared-lane bookkeeping meet a test (issue 16).
 */
describe('a flow of more chains than lanes', () => {
  const wide = (log: string[], busy: { now: number; peak: number }, failAt?: number) =>
    Array.from({ length: 40 }, (_, i) =>
      task({
        name: `m${i}`,
        async execute() {
          busy.now += 1;
          busy.peak = Math.max(busy.peak, busy.now);
          log.push(`m${i}`);
          await new Promise((resolve) => setImmediate(resolve));
          busy.now -= 1;
          if (i === failAt) throw new Error(`m${i} breaks`);
        },
        async revert() {
          busy.now += 1;
          busy.peak = Math.max(busy.peak, busy.now);
          log.push(`m${i} reverted`);
          await new Promise((resolve) => setImmediate(resolve));
          busy.now -= 1;
        },
      }),
    );

  it('runs at most 32 tasks at once and each of 40 once', async () => {
    const log: string[] = [];
    const busy = { now: 0, peak: 0 };
    await newEngine().run(linear('forty', [parallel('middle', wide(log, busy))]));
    expect(log).toHaveLength(40);
    expect(new Set(log).size).toBe(40);
    expect(busy.peak).toBe(32);
  });

  it('reverts at most 32 at once, each task that ran once', async () => {
    const log: string[] = [];
    const busy = { now: 0, peak: 0 };
    const run = newEngine().start(parallel('forty-fail', wide(log, busy, 39)));
    expect(await rejectionOf(run.result)).toBeInstanceOf(FlowFailedError);
    expect(run.status).toBe('REVERTED');
    const ran = log.filter((l) => !l.endsWith('reverted'));
    const reverted = log.filter((l) => l.endsWith('reverted'));
    expect(ran).toHaveLength(40);
    expect(reverted.sort()).toEqual(ran.map((l) => `${l} reverted`).sort());
    expect(busy.peak).toBeLessThanOrEqual(32);
  });

  it('finishes when two tasks of one shared lane become ready on the same completion', async () => {
    const ran: string[] = [];
    const t = (name: string, requires: string[] = []) =>
      task({
        name,
        requires,
        provides: name,
        execute: () => {
          ran.push(name);
          return name;
        },
      });
    // 36 chains (> MAX_LANES): X and Y share lane 3 and both become ready when D (finishing last) does.
    let qDone!: () => void;
    const afterQ = new Promise<void>((r) => {
      qDone = r;
    });
    const flow = graph('shared-lane', [
      task({
        name: 'D',
        provides: 'D',
        async execute() {
          await afterQ; // D finishes after Q, so D's completion readies X and Y at once
          ran.push('D');
          return 'D';
        },
      }),
      t('B'),
      t('Q'),
      t('S', ['D']),
      t('X', ['D']),
      ...Array.from({ length: 32 }, (_, i) => t(`h${i}`, ['B'])),
      t('Q2', ['Q']),
      t('Y', ['D', 'Q']),
    ]);
    const engine = newEngine();
    const run = engine.start(flow, {});
    run.on('task', (e) => {
      if (e.task === 'Q' && e.state === 'SUCCESS') qDone();
    });
    await run.result;
    expect(ran.indexOf('Q')).toBeLessThan(ran.indexOf('D'));
    expect(ran.sort()).toEqual(
      ['D', 'B', 'Q', 'S', 'X', 'Q2', 'Y', ...Array.from({ length: 32 }, (_, i) => `h${i}`)].sort(),
    );
  });

  it('runs a join whose dependencies end chains of their own (no same-step start to listen for)', async () => {
    const ran: string[] = [];
    const t = (name: string, requires: string[] = []) =>
      task({
        name,
        requires,
        provides: name,
        execute: () => {
          ran.push(name);
          return name;
        },
      });
    // `join` extends a's chain; b's chain ends at b, whose completion starts nothing in the same step.
    const flow = graph('join-shared', [
      t('a'),
      t('b'),
      t('join', ['a', 'b']),
      ...Array.from({ length: 33 }, (_, i) => t(`w${i}`)),
    ]);
    await newEngine().run(flow);
    expect(ran).toHaveLength(36);
    expect(ran.indexOf('join')).toBeGreaterThan(Math.max(ran.indexOf('a'), ran.indexOf('b')));
  });
});

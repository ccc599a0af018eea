import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { MAX_BUSY_TASKS } from '../../src/compile/compile.js';
import { taskMachineInput } from '../../src/compile/task-machines.js';
import { joinSnapshot } from '../../src/engine/snapshot-parts.js';
import {
  compile,
  createEngine,
  FlowFailedError,
  graph,
  linear,
  memoryStore,
  parallel,
  task,
} from '../../src/index.js';
import { newEngine, rejectionOf } from './engine-support.js';

/**
 * Past SPAWN_ABOVE_LANES dependency chains a flow compiles to the spawned shape (compile.ts): each busy
 * task is a task machine the run spawns, at most MAX_BUSY_TASKS (100) of one run at once, whether
 * executing or reverting, the rest waiting in the run's queue; every task still runs, and reverts,
 * exactly once. Small flows, here rather than in engine-wide.test.ts (which the mutation run leaves out
 * for its seconds), so that Stryker's mutants of the spawned shape's bookkeeping meet a test.
 */
describe('a flow of more chains than the lanes shape takes (spawned)', () => {
  const wide = (log: string[], busy: { now: number; peak: number }, failAt?: number, width = 40) =>
    Array.from({ length: width }, (_, i) =>
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

  it('runs all 40 at once, each once: no lane makes a task wait', async () => {
    const log: string[] = [];
    const busy = { now: 0, peak: 0 };
    const flow = linear('forty', [parallel('middle', wide(log, busy))]);
    expect(compile(flow).shape).toBe('spawned');
    await newEngine().run(flow);
    expect(log).toHaveLength(40);
    expect(new Set(log).size).toBe(40);
    expect(busy.peak).toBe(40);
  });

  it(`runs at most MAX_BUSY_TASKS (${MAX_BUSY_TASKS}) at once, each of 110 once`, async () => {
    const log: string[] = [];
    const busy = { now: 0, peak: 0 };
    await newEngine().run(parallel('one-ten', wide(log, busy, undefined, 110)));
    expect(log).toHaveLength(110);
    expect(new Set(log).size).toBe(110);
    expect(busy.peak).toBe(MAX_BUSY_TASKS);
  });

  it('reverts at most MAX_BUSY_TASKS at once, each task that ran once', async () => {
    const log: string[] = [];
    const busy = { now: 0, peak: 0 };
    const run = newEngine().start(parallel('one-ten-fail', wide(log, busy, 109, 110)));
    expect(await rejectionOf(run.result)).toBeInstanceOf(FlowFailedError);
    expect(run.status).toBe('REVERTED');
    const ran = log.filter((l) => !l.endsWith('reverted'));
    const reverted = log.filter((l) => l.endsWith('reverted'));
    expect(ran).toHaveLength(110);
    expect(reverted.sort()).toEqual(ran.map((l) => `${l} reverted`).sort());
    expect(busy.peak).toBeLessThanOrEqual(MAX_BUSY_TASKS);
  });

  /** A task that records its run in `ran` and provides its own name. */
  const recording =
    (ran: string[]) =>
    (name: string, requires: string[] = []) =>
      task({
        name,
        requires,
        provides: name,
        execute: () => {
          ran.push(name);
          return name;
        },
      });

  it('finishes when two tasks become ready on the same completion', async () => {
    const ran: string[] = [];
    const t = recording(ran);
    // 36 chains: X and Y both become ready when D (finishing last) does.
    let qDone!: () => void;
    const afterQ = new Promise<void>((r) => {
      qDone = r;
    });
    const flow = graph('two-ready', [
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
    const t = recording(ran);
    // `join` extends a's chain; b's chain ends at b, whose completion starts nothing in the same step.
    const flow = graph('join-chains', [
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

describe('the spawned shape, as stored and rehydrated', () => {
  const gated = () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const flow = parallel(
      'twelve',
      Array.from({ length: 12 }, (_, i) =>
        task({ name: `d${i}`, execute: async () => (i === 5 ? gate.then(() => i) : i) }),
      ),
    );
    return { flow, open };
  };

  it('holds each busy task as a task machine: its record’s state, invoking the task’s actor by name', () => {
    const { flow } = gated();
    const { machine, shape } = compile(flow);
    expect(shape).toBe('spawned');
    const [snapshot] = initialTransition(machine, { runId: 'r', inputs: {}, at: 1 });
    expect(snapshot.value).toEqual({});
    const children = snapshot.children as Record<string, { src: unknown; getSnapshot(): any }>;
    expect(Object.keys(children).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `execute:d${i}`).sort(),
    );
    const d5 = children['execute:d5']!;
    expect(d5.src).toBe('task.execute');
    expect(d5.getSnapshot().value).toBe('RUNNING');
    expect(taskMachineInput(d5.getSnapshot())).toMatchObject({ runId: 'r', task: 'd5', attempt: 1 });
  });

  it('reads a run stored in the lanes shape (by a release that ran wide flows in lanes) as task machines', async () => {
    const { flow, open } = gated();
    const compiled = compile(flow);
    const store = memoryStore();
    const engine = createEngine({ store, flows: [flow] });
    const run = engine.start(flow, {}, { id: 'old' });
    let stored = await store.load('old');
    while (!stored || JSON.parse(stored.parts['t:d4'] ?? '{}').s !== 'SUCCESS') {
      await new Promise((resolve) => setTimeout(resolve, 5));
      stored = await store.load('old');
    }
    const parts = { ...stored.parts };
    // The same run as the lanes shape stored it: each lane names its busy task, a child is the actor.
    const core = JSON.parse(parts.core!);
    core.value = Object.fromEntries(
      compiled.lanes.map((lane, i) => [`lane${i}`, lane.includes('d5') ? { d5: 'RUNNING' } : 'idle']),
    );
    const machine = JSON.parse(parts['c:d5']!);
    const old = {
      ...parts,
      core: JSON.stringify(core),
      'c:d5': JSON.stringify({ id: 'execute:d5', ...machine.snapshot.children.execute }),
    };
    expect(joinSnapshot('old', compiled, old)).toEqual(joinSnapshot('old', compiled, parts));
    open();
    await run.result;
    await engine.close();
  });
});

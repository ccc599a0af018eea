import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type AnyMachineSnapshot, type InspectionEvent, initialTransition, transition } from 'xstate';
import { provisionFlow } from '../../examples/decider.js';
import { exampleFlows } from '../../examples/diagrams.js';
import { deployFlow } from '../../examples/graph-wiring.js';
import { helloFlow } from '../../examples/hello-world.js';
import { placementFlow } from '../../examples/retry-values.js';
import { migrateFlow } from '../../examples/reverting-linear.js';
import { fakeCloud, makeServerBoot, SERVER_BOOT_STEPS } from '../../examples/server-boot.js';
import { makeServerFlows } from '../../examples/server-lifecycle.js';
import { compile, createEngine, type Flow, graph, linear, parallel, retry, task } from '../../src/index.js';
import { seededRandom } from '../../src/testing/random.js';

/**
 * Transitions of a compiled machine are pure (API.md, "The compiled machine is a real XState machine"):
 * an event never changes an earlier snapshot, and the same (snapshot, event) gives the same result.
 */

/** A random DAG of `n` tasks wired by requires/provides; `failAt` throws (after `failAfter` attempts). */
function randomFlow(seed: number, n: number, failAt?: number): Flow {
  const random = seededRandom(seed);
  const tasks = Array.from({ length: n }, (_, i) => {
    const requires = Array.from({ length: i }, (_, j) => j)
      .filter(() => random() < 0.3)
      .map((j) => `v${j}`);
    return task({
      name: `t${i}`,
      requires,
      provides: `v${i}`,
      ...(i % 4 === 1 ? { retry: { attempts: 2, backoffMs: 1 } } : {}),
      execute: async (_args: Record<string, unknown>, ctx) => {
        await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
        if (i === failAt) throw new Error(`t${i} fails`);
        if (i % 4 === 1 && ctx.attempt === 1) throw new Error(`t${i} flakes once`);
        return i;
      },
      revert: async () => {},
    });
  });
  return graph(`random-${seed}-${n}-${failAt ?? 'ok'}`, tasks);
}

const flaky = (name: string) =>
  task({
    name,
    provides: name,
    execute: (_: unknown, ctx) => {
      if (ctx.attempt < 2) throw new Error(`${name} not yet`);
      return name;
    },
    retry: { attempts: 3, backoffMs: 1 },
  });

const retryScope = linear('scoped', [
  linear(
    'inner',
    [
      task({ name: 'prepare', provides: 'p', execute: () => 'p', revert: () => {} }),
      task({
        name: 'try-host',
        requires: ['host', 'p'],
        execute: ({ host }: { host: string }) => {
          if (host !== 'h3') throw new Error(`${host} is full`);
          return host;
        },
      }),
    ],
    { retry: retry.forEach(['h1', 'h2', 'h3'], { provides: 'host' }) },
  ),
  parallel('after', [flaky('x'), flaky('y')]),
]);

interface Kept {
  snapshot: AnyMachineSnapshot;
  copy: unknown;
}

/** Run `flow` with an inspector that keeps every snapshot the run actor emits, with a deep copy taken then. */
async function runKeeping(flow: Flow, inputs: Record<string, unknown> = {}): Promise<Kept[]> {
  const kept: Kept[] = [];
  const engine = createEngine({
    inspect: (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId) return;
      const snapshot = event.snapshot as AnyMachineSnapshot;
      kept.push({ snapshot, copy: structuredClone({ value: snapshot.value, context: snapshot.context }) });
    },
  });
  await engine.run(flow, inputs).catch(() => {});
  await engine.close();
  return kept;
}

/** The examples' flows with inputs that run them (ha-conductors' boot needs a Redis: server boot is its flow). */
const lifecycle = makeServerFlows({ cloud: fakeCloud() });
const server = { vm: 'vm-1', port: 'port-1', volume: 'volume-1', ip: '10.0.0.1' };
const EXAMPLES: [string, Flow, Record<string, unknown>][] = [
  ['example hello', helloFlow, { who: 'world' }],
  ['example migrate (fails, reverts)', migrateFlow, {}],
  ['example deploy-app', deployFlow, { commit: 'a1b2c3' }],
  ['example placement (retry values)', placementFlow, {}],
  ['example provision-host, a GPU host', provisionFlow, { host: 'gpu-1' }],
  ['example provision-host, a CPU host (decider skips)', provisionFlow, { host: 'cpu-1' }],
  ['example server-stop', lifecycle.stop, server],
  ['example server-start', lifecycle.start, server],
  ['example server-delete', lifecycle.delete, server],
];

describe('pure transitions', () => {
  it('cover every example flow', () => {
    const covered = new Set([...EXAMPLES.map(([, flow]) => flow.name), 'server-boot']);
    const missing = exampleFlows()
      .map((flow) => flow.name)
      .filter((name) => name !== 'ha-boot' && !covered.has(name));
    expect(missing).toEqual([]);
  });

  const flows: [string, Flow, Record<string, unknown>][] = [
    ...EXAMPLES,
    ['server boot', makeServerBoot({ cloud: fakeCloud() }), { network: 'n', sizeGb: 1 }],
    ...SERVER_BOOT_STEPS.map((step): [string, Flow, Record<string, unknown>] => [
      `server boot failing at ${step}`,
      makeServerBoot({ cloud: fakeCloud(), failAt: step }),
      { network: 'n', sizeGb: 1 },
    ]),
    ['a retry controller and per-task retries', retryScope, {}],
    ...[1, 2, 3, 4, 5].map((seed): [string, Flow, Record<string, unknown>] => [
      `random graph ${seed}`,
      randomFlow(seed, 12 + seed * 8, seed % 2 === 0 ? 7 + seed : undefined),
      {},
    ]),
    ['a random graph of 70 tasks (three record groups)', randomFlow(99, 70, 66), {}],
    [
      'a flow of 40 chains (lanes shared, one busy task each)',
      parallel(
        'forty',
        Array.from({ length: 40 }, (_, i) =>
          task({ name: `w${i}`, execute: () => i, revert: async () => {} }),
        ),
      ),
      {},
    ],
  ];

  it.each(flows)(
    '%s: every snapshot the run emitted is as it was when emitted',
    async (_name, flow, inputs) => {
      const kept = await runKeeping(flow, inputs);
      // At least the first snapshot, one per task started and the last (a one-task flow has three).
      expect(kept.length).toBeGreaterThanOrEqual(3);
      const changed = kept.filter(
        ({ snapshot, copy }) =>
          !isDeepStrictEqual({ value: snapshot.value, context: snapshot.context }, copy),
      );
      expect(changed.map((k) => kept.indexOf(k))).toEqual([]);
    },
  );

  it('transition() gives the same result twice and leaves its argument as it was', () => {
    for (const [name, flow] of flows) {
      const { machine, graph: g } = compile(flow);
      const input = { runId: 'r', inputs: { network: 'n', sizeGb: 1 }, at: 1_000 };
      const [first] = initialTransition(machine, input);
      const [again] = initialTransition(machine, input);
      expect(again.context, name).toEqual(first.context);
      // Every snapshot transition() returned, with a deep copy taken then: none may change later.
      const returned: { snapshot: AnyMachineSnapshot; copy: unknown }[] = [];
      const keep = (snapshot: AnyMachineSnapshot) =>
        returned.push({
          snapshot,
          copy: structuredClone({ value: snapshot.value, context: snapshot.context }),
        });
      keep(first);
      // Walk the machine: finish the first busy task each time, failing every third one.
      let snapshot = first;
      for (let i = 0; i < 3 * g.tasks.length && snapshot.context.status === 'RUNNING'; i++) {
        const busy = Object.keys(snapshot.children as object)[0];
        if (busy === undefined) break;
        const [kind, taskName] = busy.split(':') as [string, string];
        const event =
          kind === 'execute' && i % 3 === 2
            ? { type: `xstate.error.actor.${busy}`, error: { error: new Error('no'), at: 2_000 + i } }
            : { type: `xstate.done.actor.${busy}`, output: { value: { encoded: taskName }, at: 2_000 + i } };
        const before = structuredClone(snapshot.context);
        const [next] = transition(machine, snapshot, event as never);
        const [twice] = transition(machine, snapshot, event as never);
        expect(snapshot.context, `${name}: the snapshot an event was applied to`).toEqual(before);
        expect(twice.context, `${name}: the same event applied twice`).toEqual(next.context);
        expect(twice.value).toEqual(next.value);
        keep(next);
        snapshot = next;
      }
      const changed = returned.filter(
        ({ snapshot: kept, copy }) => !isDeepStrictEqual({ value: kept.value, context: kept.context }, copy),
      );
      expect(
        changed.map((k) => returned.indexOf(k)),
        `${name}: snapshots transition() returned, changed later`,
      ).toEqual([]);
    }
  });

  it('the reducer gives the same result twice, leaves its context as it was and says what changed', () => {
    const flow = linear('reduced', [
      task({ name: 'a', execute: () => 1, revert: () => {} }),
      task({ name: 'b', execute: () => 2 }),
    ]);
    const { machine, reducer } = compile(flow);
    const [started] = initialTransition(machine, { runId: 'r', inputs: {}, at: 1_000 });
    const context = started.context;
    const before = structuredClone(context);
    const event = { type: 'xstate.done.actor.execute:a', output: { value: 1, at: 5_000 } };
    const once = reducer.onTask(context, event, { task: 'a', kind: 'done' });
    const twice = reducer.onTask(context, event, { task: 'a', kind: 'done' });
    expect(context).toEqual(before);
    expect(twice).toEqual(once);
    expect(once.changed).toEqual([
      { type: 'task', task: 'a', state: 'SUCCESS', attempt: 1, at: 5_000, record: once.context.tasks[0]!.a },
      { type: 'task', task: 'b', state: 'RUNNING', attempt: 1, at: 5_000, record: once.context.tasks[0]!.b },
    ]);
    expect(once.at).toBe(5_000);
    expect(once.context.tasks[0]!.a).toMatchObject({ s: 'SUCCESS', r: 1, st: 1_000, ft: 5_000 });
    // What the writer stores: the two records; the queue and failure lists stay, the run still runs.
    expect(once).toMatchObject({ queueChanged: false, failuresChanged: false });
    expect(once).not.toHaveProperty('status');
    // A command after the run finished changes nothing.
    const done = reducer.onTask(
      once.context,
      { type: 'x', output: { value: 2, at: 6_000 } },
      { task: 'b', kind: 'done' },
    );
    expect(done.context.status).toBe('SUCCESS');
    expect(done.status).toBe('SUCCESS');
    expect(reducer.onRun(done.context, { type: 'CANCEL', at: 7_000 }, { kind: 'cancel' })).toBeUndefined();
  });

  it('the reducer says when a step replaced the queue, a failure list or the status (what a write carries)', () => {
    const flow = parallel('queued', [
      task({ name: 'a', execute: () => 1, revert: () => {} }),
      task({ name: 'b', execute: () => 2, revert: () => {} }),
      task({ name: 'c', execute: () => 3, revert: () => {} }),
    ]);
    const { machine, reducer } = compile(flow);
    const [started] = initialTransition(machine, { runId: 'r', inputs: {}, concurrency: 1, at: 1_000 });
    expect(started.context.queue).toEqual(['b', 'c']);
    const a = reducer.onTask(
      started.context,
      { type: 'xstate.done.actor.execute:a', output: { value: 1, at: 2_000 } },
      { task: 'a', kind: 'done' },
    );
    expect(a.context.queue).toEqual(['c']);
    expect(a).toMatchObject({ queueChanged: true, failuresChanged: false });
    expect(a.changed.map((c) => `${c.task} ${c.state}`)).toEqual(['a SUCCESS', 'b RUNNING']);
    const b = reducer.onTask(
      a.context,
      { type: 'xstate.error.actor.execute:b', error: { error: new Error('boom'), at: 3_000 } },
      { task: 'b', kind: 'failed' },
    );
    expect(b).toMatchObject({ failuresChanged: true, status: 'REVERTING' });
    expect(b.changed[0]).toMatchObject({ task: 'b', state: 'FAILURE', record: { f: { message: 'boom' } } });
  });

  it('stamps task records with the times their events carry, not the clock', () => {
    const { machine } = compile(linear('timed', [task({ name: 'a', execute: () => 1, revert: () => {} })]));
    const [started] = initialTransition(machine, { runId: 'r', inputs: {}, at: 1_000 });
    expect(started.context.tasks[0]!.a).toMatchObject({ s: 'RUNNING', st: 1_000 });
    const [done] = transition(machine, started, {
      type: 'xstate.done.actor.execute:a',
      output: { value: 1, at: 5_000 },
    } as never);
    expect(done.context.tasks[0]!.a).toMatchObject({ s: 'SUCCESS', st: 1_000, ft: 5_000, r: 1 });
  });
});

import { describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  linear,
  memoryStore,
  parallel,
  RunNotFoundError,
  type Store,
  type StoredRun,
  task,
} from '../../src/index.js';
import { type Deferred, deferred } from '../support/flows.js';

/** A memory store that tells when a run's stored data matches a predicate (explain reads the store). */
function watchedStore() {
  const inner = memoryStore();
  const waiters: { id: string; check: (run: StoredRun) => boolean; done: () => void }[] = [];
  const notify = async (id: string) => {
    const run = await inner.load(id);
    if (!run) return;
    for (const waiter of [...waiters]) {
      if (waiter.id === id && waiter.check(run)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.done();
      }
    }
  };
  const store: Store = {
    ...inner,
    create: async (meta, parts, options) => {
      const created = await inner.create(meta, parts, options);
      await notify(meta.id);
      return created;
    },
    save: async (write, options) => {
      await inner.save(write, options);
      await notify(write.runId);
    },
  };
  const record = (run: StoredRun, name: string) =>
    JSON.parse(run.parts[`t:${name}`] ?? '{}') as { s?: string };
  return {
    store,
    /** Resolves once the run is stored with these task states (and run status, when given). */
    stored(id: string, states: Record<string, string>, status?: string): Promise<void> {
      return new Promise((done) => {
        const check = (run: StoredRun) =>
          (status === undefined || run.meta.status === status) &&
          Object.entries(states).every(([name, state]) => record(run, name).s === state);
        waiters.push({ id, check, done });
        void notify(id);
      });
    },
  };
}

function gate(
  gates: Record<string, Deferred<unknown>>,
  name: string,
  options: { provides?: string; requires?: string[] } = {},
) {
  gates[name] = deferred<unknown>();
  return task({
    name,
    ...options,
    execute: () => gates[name]!.promise,
    revert: () => gates[`${name} revert`]?.promise,
  });
}

describe('engine.explain', () => {
  it('names a task in backoff, its failed attempt and error, and when it runs again; without the flow too', async () => {
    const { store, stored } = watchedStore();
    const flow = linear('flaky-flow', [
      task({
        name: 'call-api',
        retry: { attempts: 5, backoffMs: 60_000 },
        execute() {
          throw new TypeError('connection refused');
        },
      }),
    ]);
    const engine = createEngine({ store, flows: [flow] });
    const run = engine.start(flow, {}, { id: 'backoff-1' });
    await stored('backoff-1', { 'call-api': 'RETRYING' });
    const until = JSON.parse((await store.load('backoff-1'))!.parts['t:call-api']!).at as number;

    const explained = await engine.explain('backoff-1');
    expect(explained).toMatchObject({ runId: 'backoff-1', status: 'RUNNING', owner: engine.id });
    expect(explained.waitingOn).toEqual([
      {
        task: 'call-api',
        reason: 'retry-backoff',
        until,
        attempt: 2,
        attempts: 5,
        error: { name: 'TypeError', message: 'connection refused' },
      },
    ]);
    const time = new Date(until).toTimeString().slice(0, 8);
    expect(explained.text).toContain(
      `call-api: attempt 1 of 5 failed with TypeError: connection refused, next attempt at ${time} (in 1m).`,
    );

    // An engine that has never seen the flow reads the same from the stored run (no attempt limit).
    const stranger = createEngine({ store });
    const fromStore = await stranger.explain('backoff-1');
    expect(fromStore.waitingOn).toEqual([
      { task: 'call-api', reason: 'retry-backoff', until, attempt: 2, error: explained.waitingOn[0]!.error },
    ]);
    expect(fromStore.text).toContain(
      `call-api: attempt 1 failed with TypeError: connection refused, next attempt at ${time}`,
    );
    await run.cancel();
    await engine.close();
  });

  it('tells running tasks from those waiting on the concurrency limit and on dependencies', async () => {
    const { store, stored } = watchedStore();
    const gates: Record<string, Deferred<unknown>> = {};
    const flow = linear('limited', [
      parallel('fan', [gate(gates, 'a'), gate(gates, 'b'), gate(gates, 'c')]),
      gate(gates, 'join'),
      gate(gates, 'after-join'),
    ]);
    const engine = createEngine({ store, flows: [flow], concurrency: 1 });
    const run = engine.start(flow, {}, { id: 'limited-1' });
    await stored('limited-1', { a: 'RUNNING' });

    const { waitingOn, text } = await engine.explain('limited-1');
    expect(waitingOn).toEqual([
      { task: 'a', reason: 'running', attempt: 1, attempts: 1, since: expect.any(Number) },
      { task: 'b', reason: 'concurrency-limit' },
      { task: 'c', reason: 'concurrency-limit' },
      { task: 'join', reason: 'dependencies', on: ['a', 'b', 'c'] },
      { task: 'after-join', reason: 'dependencies', on: ['join'] },
    ]);
    const lines = text.split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^a: attempt 1 is running since \d\d:\d\d:\d\d \(just now\)\.$/),
    );
    expect(lines).toContain('b: ready, waiting for a free slot (1 of at most 1 tasks of this run are busy).');
    expect(lines).toContain('join: waits for a (RUNNING), b (PENDING), c (PENDING).');
    expect(lines).toContain('after-join: waits for join (PENDING).');
    // An engine without the flow names the dependencies too: they come from the flow catalog.
    const stranger = createEngine({ store });
    const fromCatalog = await stranger.explain('limited-1');
    expect(fromCatalog.waitingOn.filter((w) => w.reason === 'dependencies')).toEqual([
      { task: 'join', reason: 'dependencies', on: ['a', 'b', 'c'] },
      { task: 'after-join', reason: 'dependencies', on: ['join'] },
    ]);
    await run.cancel();
    await engine.close();
  });

  it('explains a suspended run and a reverting one (with the failure that started it)', async () => {
    const { store, stored } = watchedStore();
    const gates: Record<string, Deferred<unknown>> = {};
    const flow = linear('suspendable', [gate(gates, 'first'), gate(gates, 'second')]);
    const engine = createEngine({ store, flows: [flow] });

    const suspended = engine.start(flow, {}, { id: 'suspend-1' });
    await stored('suspend-1', { first: 'RUNNING' });
    const suspending = suspended.suspend();
    gates.first!.resolve('ok');
    await suspending;
    const explained = await engine.explain('suspend-1');
    expect(explained.status).toBe('SUSPENDED');
    expect(explained.waitingOn).toEqual([{ reason: 'suspended', since: expect.any(Number) }]);
    expect(explained.text).toMatch(
      /^Run suspend-1 \(suspendable\) is suspended since .*: nothing runs until an engine resumes it\.$/m,
    );

    gates.first = deferred();
    gates.second = deferred();
    gates['first revert'] = deferred();
    const failing = engine.start(flow, {}, { id: 'revert-1' });
    gates.first.resolve('ok');
    await stored('revert-1', { second: 'RUNNING' });
    gates.second.reject(new Error('disk full'));
    await stored('revert-1', { first: 'REVERTING' });
    const reverting = await engine.explain('revert-1');
    expect(reverting.status).toBe('REVERTING');
    expect(reverting.waitingOn).toEqual([
      { reason: 'reverting', since: expect.any(Number) },
      { task: 'first', reason: 'reverting' },
    ]);
    expect(reverting.text).toContain(
      'The run is reverting because second failed with Error: disk full; tasks that ran are undone in reverse order.',
    );
    gates['first revert'].resolve(undefined);
    await failing.result.catch(() => {});
    const ended = await engine.explain('revert-1');
    expect(ended.waitingOn).toEqual([]);
    expect(ended.text.split('\n')).toEqual([
      expect.stringMatching(/^Run revert-1 \(suspendable\) ended REVERTED at .*: it waits on nothing\.$/),
      'second failed: Error: disk full.',
    ]);
    await engine.close();
  });

  it('refuses an unknown run with RunNotFoundError', async () => {
    const engine: Engine = createEngine();
    await expect(engine.explain('nope')).rejects.toBeInstanceOf(RunNotFoundError);
    await engine.close();
  });
});

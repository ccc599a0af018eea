import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  type Flow,
  linear,
  memoryStore,
  type RunEvent,
  RunNotFoundError,
  redisStore,
  type Store,
  task,
} from '../../src/index.js';
import { deferred } from '../support/flows.js';
import { cleanPrefix, REDIS_URL, testPrefix } from '../support/redis.js';

/**
 * A run's history (API.md "History and watching"): the exact events each kind of run stores, on the
 * memory store and on Redis, read back with engine.history and engine.watch.
 */

/** Events as `seq task state attempt error` lines: what a reader relies on, times aside. */
function lines(events: readonly RunEvent[]): string[] {
  return events.map((e) =>
    [e.seq, e.task ?? '[run]', e.state, e.attempt ?? '', e.error ? `${e.error.name}: ${e.error.message}` : '']
      .join(' ')
      .trimEnd(),
  );
}

function checkTimes(events: readonly RunEvent[], startedAt: number): void {
  let last = startedAt;
  for (const e of events) {
    expect(e.at).toBeGreaterThanOrEqual(last);
    last = e.at;
  }
  expect(last).toBeLessThanOrEqual(Date.now());
}

/** An engine on a store the tests share: closing it leaves the store open (`closeStore: false`). */
function shared(store: Store, ...flows: Flow[]): Engine {
  return createEngine({ store, flows, closeStore: false });
}

const stores: Record<string, () => { store: Store; cleanup(): Promise<void> }> = {
  memory: () => ({ store: memoryStore(), cleanup: async () => {} }),
  redis: () => {
    const prefix = testPrefix('history');
    const store = redisStore({ redis: REDIS_URL, prefix });
    return {
      store,
      async cleanup() {
        const redis = new Redis(REDIS_URL);
        await cleanPrefix(redis, prefix);
        await redis.quit();
      },
    };
  },
};

describe.each(Object.keys(stores))('run history on the %s store', (kind) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let engine: Engine;

  beforeAll(() => {
    ({ store, cleanup } = stores[kind]!());
  });
  afterEach(async () => {
    await engine?.close();
  });
  afterAll(async () => {
    await cleanup();
    await store.close();
  });

  const open = () => {
    engine = shared(store);
    return engine;
  };

  it('a run that succeeds: RUNNING, each task RUNNING then SUCCESS, SUCCESS last', async () => {
    const flow = linear('ok', [
      task({ name: 'a', provides: 'x', execute: () => 1 }),
      task({ name: 'b', requires: 'x', execute: () => 2 }),
    ]);
    const startedAt = Date.now();
    await open().run(flow, {}, { id: 'ok-1' });
    const events = await engine.history('ok-1');
    expect(lines(events)).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a SUCCESS 1',
      '4 b RUNNING 1',
      '5 b SUCCESS 1',
      '6 [run] SUCCESS',
    ]);
    checkTimes(events, startedAt);
    // The task records' times are those of the same changes in the history.
    const info = await engine.get('ok-1');
    expect(info!.tasks.a!.startedAt).toBe(events[1]!.at);
    expect(info!.tasks.a!.finishedAt).toBe(events[2]!.at);
    expect(info!.tasks.b!.startedAt).toBe(events[3]!.at);
    expect(info!.tasks.b!.finishedAt).toBe(events[4]!.at);
  });

  it('a failure: REVERTING before the failed task, reverts in reverse order, REVERTED last', async () => {
    const flow = linear('fails', [
      task({ name: 'a', provides: 'x', execute: () => 1, revert: () => {} }),
      task({
        name: 'b',
        requires: 'x',
        execute: () => {
          throw new TypeError('no disk');
        },
        revert: () => {},
      }),
    ]);
    await expect(open().run(flow, {}, { id: 'fail-1' })).rejects.toThrow();
    expect(lines(await engine.history('fail-1'))).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a SUCCESS 1',
      '4 b RUNNING 1',
      '5 [run] REVERTING',
      '6 b FAILURE 1 TypeError: no disk',
      '7 b REVERTING 1',
      '8 b REVERTED 1',
      '9 a REVERTING 1',
      '10 a REVERTED 1',
      '11 [run] REVERTED',
    ]);
  });

  it('a revert that throws: REVERT_FAILURE with its error, FAILURE last', async () => {
    const flow = linear('stuck', [
      task({
        name: 'a',
        execute: () => 1,
        revert: () => {
          throw new Error('still attached');
        },
      }),
      task({
        name: 'b',
        execute: () => {
          throw new Error('boom');
        },
      }),
    ]);
    await expect(open().run(flow, {}, { id: 'stuck-1' })).rejects.toThrow();
    expect(lines(await engine.history('stuck-1'))).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a SUCCESS 1',
      '4 b RUNNING 1',
      '5 [run] REVERTING',
      '6 b FAILURE 1 Error: boom',
      '7 b REVERTING 1',
      '8 b REVERTED 1',
      '9 a REVERTING 1',
      '10 a REVERT_FAILURE 1 Error: still attached',
      '11 [run] FAILURE',
    ]);
  });

  it('a task retried: RETRYING with the failed attempt and its error, then the next attempt', async () => {
    let calls = 0;
    const flow = linear('flaky', [
      task({
        name: 'a',
        retry: { attempts: 3, backoffMs: 1 },
        execute: () => {
          calls += 1;
          if (calls < 3) throw new Error(`try ${calls}`);
          return calls;
        },
      }),
    ]);
    const startedAt = Date.now();
    await open().run(flow, {}, { id: 'flaky-1' });
    const events = await engine.history('flaky-1');
    expect(lines(events)).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a RETRYING 1 Error: try 1',
      '4 a RUNNING 2',
      '5 a RETRYING 2 Error: try 2',
      '6 a RUNNING 3',
      '7 a SUCCESS 3',
      '8 [run] SUCCESS',
    ]);
    checkTimes(events, startedAt);
    // The execute's start (its first attempt) and end (its last), as the task record keeps them.
    const info = await engine.get('flaky-1');
    expect(info!.tasks.a).toMatchObject({ startedAt: events[1]!.at, finishedAt: events[6]!.at });
  });

  it('suspend and resume: SUSPENDED after the running task finished, RUNNING again on resume', async () => {
    const gate = deferred();
    const started = deferred();
    const flow = linear('pausable', [
      task({
        name: 'a',
        provides: 'x',
        execute: async () => {
          started.resolve();
          await gate.promise;
          return 1;
        },
      }),
      task({ name: 'b', requires: 'x', execute: () => 2 }),
    ]);
    const run = open().start(flow, {}, { id: 'pause-1' });
    await started.promise;
    const suspended = run.suspend();
    gate.resolve();
    await suspended;
    expect(lines(await engine.history('pause-1'))).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a SUCCESS 1',
      '4 [run] SUSPENDED',
    ]);
    await engine.close();
    // Another engine (as another process would) resumes it: the history goes on where it stopped.
    const resumed = await shared(store, flow).resume('pause-1');
    await resumed.result;
    expect(lines(await engine.history('pause-1'))).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING 1',
      '3 a SUCCESS 1',
      '4 [run] SUSPENDED',
      '5 [run] RUNNING',
      '6 b RUNNING 1',
      '7 b SUCCESS 1',
      '8 [run] SUCCESS',
    ]);
  });

  it('watch gives past events, then live ones, and ends with the run; from resumes after a seen event', async () => {
    const gate = deferred();
    const flow = linear('watched', [
      task({ name: 'a', provides: 'x', execute: () => 1 }),
      task({
        name: 'b',
        requires: 'x',
        execute: async () => {
          await gate.promise;
          return 2;
        },
      }),
    ]);
    const run = open().start(flow, {}, { id: 'watch-1' });
    const seen: string[] = [];
    for await (const e of engine.watch('watch-1')) {
      seen.push(`${e.seq} ${e.task ?? '[run]'} ${e.state}`);
      // b is stored RUNNING (its execute waits): only now let it finish, so the rest arrives live.
      if (e.task === 'b' && e.state === 'RUNNING') gate.resolve();
    }
    await run.result;
    expect(seen).toEqual([
      '1 [run] RUNNING',
      '2 a RUNNING',
      '3 a SUCCESS',
      '4 b RUNNING',
      '5 b SUCCESS',
      '6 [run] SUCCESS',
    ]);
    const rest: number[] = [];
    for await (const e of engine.watch('watch-1', { from: 4 })) rest.push(e.seq);
    expect(rest).toEqual([5, 6]);
  });

  it('leaving a watch early ends it; engine.close ends a waiting watch; unknown runs are refused', async () => {
    const gate = deferred();
    const flow = linear('held', [
      task({
        name: 'a',
        execute: async () => {
          await gate.promise;
          return 1;
        },
      }),
    ]);
    open().start(flow, {}, { id: 'held-1' });
    for await (const e of engine.watch('held-1')) {
      if (e.task === 'a') break;
    }
    const caughtUp = deferred();
    const waiting = (async () => {
      const got: number[] = [];
      for await (const e of engine.watch('held-1')) {
        got.push(e.seq);
        if (e.seq === 2) caughtUp.resolve();
      }
      return got;
    })();
    // Past events seen, the watch now waits for live ones; closing the engine ends it.
    await caughtUp.promise;
    await engine.close();
    // The run is left RUNNING in the store; the watch saw what was stored and ended without an error.
    expect(await waiting).toEqual([1, 2]);
    gate.resolve();
    await expect(engine.history('nope')).rejects.toThrow(RunNotFoundError);
    const other = open();
    await expect(async () => {
      for await (const _ of other.watch('nope')) break;
    }).rejects.toThrow(RunNotFoundError);
  });

  it('purge and delete remove the history with the run', async () => {
    const flow = linear('gone', [task({ name: 'a', execute: () => 1 })]);
    await open().run(flow, {}, { id: 'gone-1' });
    expect((await engine.history('gone-1')).length).toBe(4);
    expect(await store.delete('gone-1')).toBe(true);
    await expect(engine.history('gone-1')).rejects.toThrow(RunNotFoundError);
    // A new run under the same id starts a new history.
    await engine.run(flow, {}, { id: 'gone-1' });
    expect(lines(await engine.history('gone-1'))[0]).toBe('1 [run] RUNNING');
    // Purge takes runs last updated before now: let the clock pass the run's last write.
    const { updatedAt } = (await store.load('gone-1'))!.meta;
    while (Date.now() <= updatedAt) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await store.purge({ olderThanMs: 0, status: ['SUCCESS'] })).toBeGreaterThanOrEqual(1);
    await expect(engine.history('gone-1')).rejects.toThrow(RunNotFoundError);
  });
});

describe('a watched run that is deleted', () => {
  it('ends the watch with RunNotFoundError (memory store; Redis notices within its 5 s block)', async () => {
    const store = memoryStore();
    const engine = createEngine({ store });
    const gate = deferred();
    const run = engine.start(
      linear('deleted', [task({ name: 'a', execute: () => gate.promise.then(() => 1) })]),
      {},
      { id: 'del-1' },
    );
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of engine.watch('del-1')) {
        seen.push(`${e.task ?? '[run]'} ${e.state}`);
        if (e.task === 'a') await store.delete('del-1');
      }
    })();
    await expect(watching).rejects.toThrow(RunNotFoundError);
    expect(seen).toEqual(['[run] RUNNING', 'a RUNNING']);
    gate.resolve();
    await run.result.catch(() => {});
    await engine.close();
  });
});

describe('history length cap', () => {
  it('keeps the newest historyLimit events on the memory store', async () => {
    const store = memoryStore({ historyLimit: 3 });
    const engine = createEngine({ store });
    await engine.run(linear('capped', [task({ name: 'a', execute: () => 1 })]), {}, { id: 'c' });
    const events = await engine.history('c');
    expect(lines(events)).toEqual(['2 a RUNNING 1', '3 a SUCCESS 1', '4 [run] SUCCESS']);
    await engine.close();
  });

  it("keeps the newest historyLimit events on Redis, and at most the rest of the oldest kept write's", async () => {
    const prefix = testPrefix('cap');
    const store = redisStore({ redis: REDIS_URL, prefix, historyLimit: 10 });
    const engine = createEngine({ store });
    const n = 150;
    const tasks = Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => i }));
    await engine.run(linear('long', tasks), {}, { id: 'long-1' });
    const events = await engine.history('long-1');
    const all = 2 * n + 2;
    // Trimmed by seq, a write's events together (a chain's write records at most 2: a task's SUCCESS
    // and the next one's RUNNING), newest kept, still numbered as written.
    expect(events.length).toBeGreaterThanOrEqual(10);
    expect(events.length).toBeLessThanOrEqual(11);
    expect(events.map((e) => e.seq)).toEqual(
      Array.from({ length: events.length }, (_, i) => all - events.length + 1 + i),
    );
    expect(lines(events.slice(-2))).toEqual([`${all - 1} t${n - 1} SUCCESS 1`, `${all} [run] SUCCESS`]);
    await engine.close();
    const redis = new Redis(REDIS_URL);
    await cleanPrefix(redis, prefix);
    await redis.quit();
    await store.close();
  });

  it('rejects a historyLimit that is not a positive integer', () => {
    expect(() => memoryStore({ historyLimit: 0 })).toThrow(
      'Expected `historyLimit` to be an integer from 1 and up, got `0` (number)',
    );
    expect(() => redisStore({ redis: REDIS_URL, historyLimit: 1.5 })).toThrow(
      'Expected `historyLimit` to be an integer from 1 and up, got `1.5` (number)',
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  createEngine,
  linear,
  memoryStore,
  RunExistsError,
  type Store,
  StoreUnavailableError,
  task,
} from '../../src/index.js';

/** Starting a run: its first write creates it, with its inputs and first snapshot together. */
describe('starting a run', () => {
  const recorded = (log: string[]) =>
    linear('start-flow', [
      task({
        name: 'a',
        requires: 'n',
        provides: 'x',
        execute: ({ n }: { n: number }) => {
          log.push('a');
          return n + 1;
        },
      }),
      task({ name: 'b', requires: 'x', execute: ({ x }: { x: number }) => void log.push(`b${x}`) }),
    ]);

  /** A run `id` of start-flow, stored (and finished) by another engine on a shared memory store. */
  const storedByAnother = async (id: string) => {
    const store = memoryStore();
    const log: string[] = [];
    const other = createEngine({ store, flows: [recorded(log)] });
    await other.run('start-flow', { n: 1 }, { id });
    return { store, log, other };
  };

  it('creates the run with its first snapshot before the first task starts: one write, version 0', async () => {
    const store = memoryStore();
    const seen: unknown[] = [];
    const flow = linear('first-write', [
      task({
        name: 'a',
        async execute() {
          const stored = await store.load('fw-1');
          seen.push(stored?.seq, stored?.meta.status, JSON.parse(stored?.parts['t:a'] ?? 'null')?.s);
        },
      }),
    ]);
    const engine = createEngine({ store, flows: [flow] });
    await engine.run(flow, {}, { id: 'fw-1' });
    expect(seen).toEqual([0, 'RUNNING', 'RUNNING']);
    expect((await store.load('fw-1'))?.seq).toBe(1); // then one write: a SUCCESS, run SUCCESS
    await engine.close();
  });

  it('refuses an id another engine stored: RunExistsError, no effect, no event, stored run untouched', async () => {
    const { store, log, other } = await storedByAnother('taken');
    expect(log).toEqual(['a', 'b2']);
    const before = await store.load('taken');

    const engine = createEngine({ store, flows: [recorded(log)] });
    const run = engine.start('start-flow', { n: 10 }, { id: 'taken' });
    const events: string[] = [];
    run.on('task', (e) => events.push(`${e.task} ${e.state}`));
    run.on('flow', (e) => events.push(`flow ${e.state}`));
    await expect(run.result).rejects.toBeInstanceOf(RunExistsError);
    expect(log).toEqual(['a', 'b2']);
    expect(events).toEqual([]);
    expect(await store.load('taken')).toEqual(before);
    await Promise.all([engine.close(), other.close()]);
  });

  it('refuses a second start of an id active on this engine; the first run goes on, each task once', async () => {
    const log: string[] = [];
    const engine = createEngine({ store: memoryStore(), flows: [recorded(log)] });
    const first = engine.start('start-flow', { n: 1 }, { id: 'twice' });
    const second = engine.start('start-flow', { n: 5 }, { id: 'twice' });
    await expect(second.result).rejects.toBeInstanceOf(RunExistsError);
    await expect(first.result).resolves.toEqual({ x: 2 });
    expect(log).toEqual(['a', 'b2']);
    await engine.close();
  });

  it('reports events only once the run exists, in order, from the first task on', async () => {
    const { store, release, called } = gatedCreate();
    const log: string[] = [];
    const engine = createEngine({ store, flows: [recorded(log)] });
    const run = engine.start('start-flow', { n: 1 });
    const events: string[] = [];
    run.on('flow', (e) => events.push(`flow ${e.state}`));
    run.on('task', (e) => events.push(`${e.task} ${e.state}`));
    // The create is in flight (its first snapshot, task a RUNNING, is in it) and not acknowledged.
    await called;
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual([]);
    expect(log).toEqual([]);
    release();
    await run.result;
    expect(events).toEqual([
      'flow RUNNING',
      'a RUNNING',
      'a SUCCESS',
      'b RUNNING',
      'b SUCCESS',
      'flow SUCCESS',
    ]);
    await engine.close();
  });

  it("fails at once with a custom store's StoreUnavailableError: the store owns its retries, the engine adds none", async () => {
    const base = memoryStore();
    let creates = 0;
    const unavailable = new StoreUnavailableError('Redis did not answer');
    // Down for the first create only: an engine retrying on top of the store would store the run.
    const store: Store = {
      ...base,
      create: async (...args) => {
        creates += 1;
        if (creates === 1) throw unavailable;
        return base.create(...args);
      },
    };
    const log: string[] = [];
    const engine = createEngine({ store, flows: [recorded(log)], unavailableDeadlineMs: 5_000 });
    const run = engine.start('start-flow', { n: 1 }, { id: 'down-once' });
    await expect(run.result).rejects.toBe(unavailable);
    expect(creates).toBe(1);
    expect(await base.load('down-once')).toBeUndefined();
    expect(log).toEqual([]);
    await engine.close();
  });

  it("tells the store the engine's deadline, and lets a pending create go when the engine closes: nothing stored", async () => {
    const base = memoryStore();
    const seen: { deadlineMs?: number; signal?: AbortSignal }[] = [];
    let created!: () => void;
    const pending = new Promise<void>((r) => {
      created = r;
    });
    // Redis "down": the create waits until it is let go of, as redisStore's does.
    const store: Store = {
      ...base,
      create: (_meta, _parts, options) =>
        new Promise((_, reject) => {
          seen.push({ ...options });
          created();
          options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
        }),
    };
    const log: string[] = [];
    const engine = createEngine({ store, flows: [recorded(log)], unavailableDeadlineMs: 5_000 });
    const run = engine.start('start-flow', { n: 1 }, { id: 'let-go' });
    await pending;
    expect(seen).toHaveLength(1);
    expect(seen[0]?.deadlineMs).toBe(5_000);
    expect(seen[0]?.signal?.aborted).toBe(false);
    await engine.close();
    await expect(run.result).rejects.toThrow(/closed/);
    expect(seen[0]?.signal?.aborted).toBe(true);
    expect(await base.load('let-go')).toBeUndefined();
    expect(log).toEqual([]);
  });

  it('lets go of a store that ignores deadlineMs a little after the deadline', async () => {
    const base = memoryStore();
    const store: Store = {
      ...base,
      // Honours only the signal.
      create: (_meta, _parts, options) =>
        new Promise((_, reject) => {
          options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
        }),
    };
    const log: string[] = [];
    const engine = createEngine({ store, flows: [recorded(log)], unavailableDeadlineMs: 100 });
    const began = Date.now();
    const error = await engine
      .run('start-flow', { n: 1 }, { id: 'ignores-deadline' })
      .catch((e: unknown) => e);
    const ms = Date.now() - began;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).maybeStored).toBe(true);
    expect((error as Error).message).toMatch(/within unavailableDeadlineMs of 100 ms/);
    // Past the deadline, within the backstop's grace (1 s) and one more for a busy machine.
    expect(ms).toBeGreaterThanOrEqual(100);
    expect(ms).toBeLessThan(2_100);
    expect(log).toEqual([]);
    await engine.close();
  });

  it("lets go of a later write that hangs at that write's deadline, not at the first write's", async () => {
    const base = memoryStore();
    let hang = false;
    let sent = 0;
    const store: Store = {
      ...base,
      // Once `slow` has run, every save hangs, honouring only the signal.
      save: (write, options) => {
        if (!hang) return base.save(write, options);
        sent ||= Date.now();
        return new Promise((_, reject) => {
          options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
        });
      },
    };
    const flow = linear('slow-then-hang', [
      task({
        name: 'slow',
        execute: async () => {
          await new Promise((r) => setTimeout(r, 300));
          hang = true;
        },
      }),
    ]);
    const engine = createEngine({ store, flows: [flow], unavailableDeadlineMs: 100 });
    const began = Date.now();
    const error = await engine.run(flow, {}, { id: 'hangs-later' }).catch((e: unknown) => e);
    const ms = Date.now() - sent;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(sent - began).toBeGreaterThanOrEqual(290);
    // The create's backstop was due at ~1.1 s from the start: this write gets its own 100 ms + 1 s.
    expect(ms).toBeGreaterThanOrEqual(1_090);
    expect(ms).toBeLessThan(2_100);
    await engine.close();
  });

  it('reports what a listener causes after what was held, in order', async () => {
    const { store, release } = gatedCreate();
    const flow = linear('cancel-on-start', [
      task({
        name: 'a',
        execute: (_args, ctx) =>
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      }),
    ]);
    const engine = createEngine({ store, flows: [flow] });
    const run = engine.start(flow, {});
    const events: string[] = [];
    run.on('flow', (e) => {
      events.push(`flow ${e.state}`);
      if (e.state === 'RUNNING') void run.cancel();
    });
    run.on('task', (e) => events.push(`${e.task} ${e.state}`));
    release();
    await expect(run.result).rejects.toBeInstanceOf(CancelledError);
    expect(events.slice(0, 2)).toEqual(['flow RUNNING', 'a RUNNING']);
    expect(events.at(-1)).toBe('flow REVERTED');
    expect(events.lastIndexOf('flow RUNNING')).toBe(0);
    expect(run.status).toBe('REVERTED');
    await engine.close();
  });

  it('engine.revert of a run whose create is refused rejects with RunExistsError', async () => {
    const { store, log, other } = await storedByAnother('taken-2');
    const engine = createEngine({ store, flows: [recorded(log)] });
    const run = engine.start('start-flow', { n: 1 }, { id: 'taken-2' });
    await expect(engine.revert('taken-2')).rejects.toBeInstanceOf(RunExistsError);
    await expect(run.result).rejects.toBeInstanceOf(RunExistsError);
    expect((await store.load('taken-2'))?.meta.status).toBe('SUCCESS');
    await Promise.all([engine.close(), other.close()]);
  });
});

/** A memory store whose create is acknowledged only once the test calls `release()`; `called` settles when it is asked. */
function gatedCreate(): { store: Store; release: () => void; called: Promise<void> } {
  let release!: () => void;
  let asked!: () => void;
  const created = new Promise<void>((r) => {
    release = r;
  });
  const called = new Promise<void>((r) => {
    asked = r;
  });
  const base = memoryStore();
  const store: Store = {
    ...base,
    create: async (meta, parts) => {
      asked();
      await created;
      return base.create(meta, parts);
    },
  };
  return { store, release, called };
}

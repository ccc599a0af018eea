import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError, RunLostError, VersionConflictError } from '../../src/errors.js';
import type { NewRunEvent } from '../../src/store/run-history.js';
import type { ListedRun, RunMeta, RunWrite, Store } from '../../src/store/store.js';

/**
 * The behaviour every `Store` must have, run against each implementation (memory, Redis, Redis Cluster).
 * `makeStore` gives a fresh, empty store per test and a `cleanup` that removes what it stored.
 */
export interface StoreUnderTest {
  store: Store;
  cleanup: () => Promise<void>;
}

const HOUR = 3_600_000;

type MetaChange = { [K in keyof RunMeta]?: RunMeta[K] | undefined };

export function meta(id: string, overrides: Partial<RunMeta> = {}): RunMeta {
  const now = Date.now();
  return {
    id,
    flow: 'boot',
    version: '1',
    hash: 'h1',
    status: 'PENDING',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    /** Create, claim, and return a writer that saves the next version with the run's token. */
    async function started(id: string, parts: Record<string, string> = {}, overrides: Partial<RunMeta> = {}) {
      expect(await store.create(meta(id, overrides), parts)).toBe(true);
      const claimed = await store.claim(id, 'engine-a');
      if (!claimed) throw new Error('claim returned undefined');
      let seq = 0;
      return {
        token: claimed.token,
        write(change: Omit<Partial<RunWrite>, 'meta'> & { meta?: MetaChange } = {}): RunWrite {
          seq += 1;
          const next: RunMeta = meta(id, { owner: 'engine-a', ...overrides });
          Object.assign(next, change.meta);
          if (next.owner === undefined) delete next.owner;
          return { runId: id, token: claimed.token, seq, set: {}, ...change, meta: next };
        },
      };
    }

    it('creates a run with token 1 and version 0, and refuses a second create of the same id', async () => {
      const first = meta('r1', { owner: 'engine-a' });
      expect(await store.create(first, { a: '1', b: 'β' })).toBe(true);
      expect(await store.create(meta('r1', { flow: 'other' }), { c: '3' })).toBe(false);
      const run = await store.load('r1');
      expect(run).toEqual({ meta: first, token: 1, seq: 0, parts: { a: '1', b: 'β' } });
    });

    it('loads and claims nothing for an absent run', async () => {
      expect(await store.load('absent')).toBeUndefined();
      expect(await store.claim('absent', 'engine-a')).toBeUndefined();
    });

    it('claim increments the token, records the owner and returns the whole run', async () => {
      await store.create(meta('r1'), { snapshot: '{"value":"a"}' });
      const a = await store.claim('r1', 'engine-a');
      const b = await store.claim('r1', 'engine-b');
      expect(a?.token).toBe(2);
      expect(a?.run.token).toBe(2);
      expect(a?.run.meta.owner).toBe('engine-a');
      expect(a?.run.parts).toEqual({ snapshot: '{"value":"a"}' });
      expect(b?.token).toBe(3);
      expect(b?.run.meta.owner).toBe('engine-b');
      expect((await store.load('r1'))?.token).toBe(3);
    });

    it('applies a write: meta, parts set and deleted, version', async () => {
      const run = await started('r1', { keep: 'k', change: 'old', drop: 'x' });
      await store.save(
        run.write({ meta: { status: 'RUNNING' }, set: { change: 'new', add: '' }, del: ['drop'] }),
      );
      const loaded = await store.load('r1');
      expect(loaded?.seq).toBe(1);
      expect(loaded?.meta.status).toBe('RUNNING');
      expect(loaded?.parts).toEqual({ keep: 'k', change: 'new', add: '' });
      await store.save(
        run.write({ meta: { status: 'SUCCESS', owner: undefined }, set: {}, del: ['add', 'never'] }),
      );
      const last = await store.load('r1');
      expect(last?.seq).toBe(2);
      expect(last?.meta.status).toBe('SUCCESS');
      expect(last?.meta.owner).toBeUndefined();
      expect(last?.parts).toEqual({ keep: 'k', change: 'new' });
    });

    it('applies writes of more parts than one command takes (a create, a write setting and deleting thousands)', async () => {
      // Redis sends parts in chunks (500 set, 1,000 deleted per command): cross each boundary, unevenly.
      const many = (from: number, count: number, value: (i: number) => string) =>
        Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${from + i}`, value(from + i)]));
      const created = many(0, 2_345, (i) => `c${i}`);
      const run = await started('r1', created);
      const set = many(1_003, 1_601, (i) => `s${i}`);
      const del = Array.from({ length: 1_003 }, (_, i) => `p${i}`);
      await store.save(run.write({ set, del }));
      const loaded = await store.load('r1');
      expect(loaded?.parts).toEqual({ ...many(1_003, 1_342, (i) => `c${i}`), ...set });
    });

    it('rejects a stale token with LeaseLostError and writes nothing', async () => {
      const run = await started('r1', { a: '1' });
      await store.claim('r1', 'engine-b');
      const before = await store.load('r1');
      const error = await store.save(run.write({ set: { a: 'stale' } })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LeaseLostError);
      expect(error).toMatchObject({ runId: 'r1', token: run.token, currentToken: run.token + 1 });
      expect(await store.load('r1')).toEqual(before);
    });

    it('rejects a write to a run that does not exist with RunLostError (not a takeover)', async () => {
      const write: RunWrite = { runId: 'ghost', token: 1, seq: 1, meta: meta('ghost'), set: { a: '1' } };
      const error = await store.save(write).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunLostError);
      expect(error).not.toBeInstanceOf(LeaseLostError);
      expect(error).toMatchObject({ runId: 'ghost' });
      expect(await store.load('ghost')).toBeUndefined();
    });

    it('rejects an out-of-order version with VersionConflictError and writes nothing', async () => {
      const run = await started('r1', { a: '1' });
      await store.save(run.write({ set: { a: '2' } }));
      const before = await store.load('r1');
      for (const seq of [0, 1, 3, 10]) {
        const write = { ...run.write({ set: { a: `wrong ${seq}` }, meta: { status: 'FAILURE' } }), seq };
        const error = await store.save(write).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(VersionConflictError);
        expect(error).toMatchObject({ runId: 'r1', expected: 2, got: seq });
      }
      expect(await store.load('r1')).toEqual(before);
    });

    it('lists runs newest first, by status, flow and limit', async () => {
      const now = Date.now();
      await store.create(meta('old', { status: 'SUCCESS', updatedAt: now - 3000 }), {});
      await store.create(meta('mid', { status: 'RUNNING', flow: 'deploy', updatedAt: now - 2000 }), {});
      await store.create(meta('new', { status: 'RUNNING', updatedAt: now - 1000 }), {});
      await store.create(meta('newest', { status: 'FAILURE', flow: 'deploy', updatedAt: now }), {});
      const ids = (metas: ListedRun[]) => metas.map((m) => m.id);
      expect(ids(await store.list())).toEqual(['newest', 'new', 'mid', 'old']);
      expect(ids(await store.list({ status: 'RUNNING' }))).toEqual(['new', 'mid']);
      expect(ids(await store.list({ status: ['SUCCESS', 'FAILURE'] }))).toEqual(['newest', 'old']);
      expect(ids(await store.list({ flow: 'deploy' }))).toEqual(['newest', 'mid']);
      expect(ids(await store.list({ flow: 'deploy', status: 'RUNNING' }))).toEqual(['mid']);
      expect(ids(await store.list({ limit: 2 }))).toEqual(['newest', 'new']);
      expect(ids(await store.list({ flow: 'deploy', limit: 1 }))).toEqual(['newest']);
      expect(await store.list({ status: 'SUSPENDED' })).toEqual([]);
      expect((await store.list({ status: 'SUCCESS' }))[0]).toEqual(
        meta('old', { status: 'SUCCESS', updatedAt: now - 3000, createdAt: expect.any(Number) }),
      );
    });

    it('lists a run under its latest status only', async () => {
      const run = await started('r1', {}, { status: 'RUNNING' });
      await store.save(run.write({ meta: { status: 'SUCCESS', updatedAt: Date.now() + 1 } }));
      expect((await store.list({ status: 'RUNNING' })).map((m) => m.id)).toEqual([]);
      expect((await store.list({ status: 'SUCCESS' })).map((m) => m.id)).toEqual(['r1']);
      expect((await store.list()).map((m) => m.id)).toEqual(['r1']);
    });

    it('lists past a limit of more runs than one page', async () => {
      const now = Date.now();
      for (let i = 0; i < 130; i++) {
        await store.create(meta(`r${i}`, { status: i % 2 ? 'SUCCESS' : 'RUNNING', updatedAt: now - i }), {});
      }
      const listed = await store.list({ limit: 120 });
      expect(listed.map((m) => m.id)).toEqual(Array.from({ length: 120 }, (_, i) => `r${i}`));
      expect(await store.list()).toHaveLength(100);
    });

    it('deletes a run and everything stored for it', async () => {
      await store.create(meta('r1', { status: 'SUCCESS' }), { a: '1' });
      await store.create(meta('r2'), { a: '2' });
      expect(await store.delete('r1')).toBe(true);
      expect(await store.load('r1')).toBeUndefined();
      expect(await store.claim('r1', 'engine-a')).toBeUndefined();
      expect((await store.list()).map((m) => m.id)).toEqual(['r2']);
      expect(await store.delete('r1')).toBe(false);
      expect(await store.create(meta('r1'), {})).toBe(true);
      expect((await store.load('r1'))?.parts).toEqual({});
    });

    it('purges finished runs older than the given age, by status', async () => {
      const now = Date.now();
      await store.create(meta('old-success', { status: 'SUCCESS', updatedAt: now - 3 * HOUR }), {});
      await store.create(meta('old-failure', { status: 'FAILURE', updatedAt: now - 3 * HOUR }), {});
      await store.create(meta('old-reverted', { status: 'REVERTED', updatedAt: now - 3 * HOUR }), {});
      await store.create(meta('old-running', { status: 'RUNNING', updatedAt: now - 3 * HOUR }), {});
      await store.create(meta('new-success', { status: 'SUCCESS', updatedAt: now - 1000 }), {});
      expect(await store.purge({ olderThanMs: 2 * HOUR, status: ['FAILURE'] })).toBe(1);
      expect(await store.load('old-failure')).toBeUndefined();
      expect(await store.purge({ olderThanMs: 2 * HOUR })).toBe(2);
      const left = (await store.list()).map((m) => m.id).sort();
      expect(left).toEqual(['new-success', 'old-running']);
      expect(await store.purge({ olderThanMs: 2 * HOUR })).toBe(0);
      expect(await store.purge({ olderThanMs: 0, status: ['SUCCESS', 'RUNNING'] })).toBe(2);
      expect(await store.list()).toEqual([]);
    });

    it('keeps parts byte for byte', async () => {
      const parts = {
        json: JSON.stringify({ a: [1, null, 'x'] }),
        unicode: 'žluťoučký 🐎',
        empty: '',
        big: 'x'.repeat(100_000),
      };
      await store.create(meta('r1'), parts);
      expect((await store.load('r1'))?.parts).toEqual(parts);
    });

    describe('history', () => {
      const event = (task: string | undefined, state: string, at = 1_000) =>
        ({ at, state, ...(task ? { task, attempt: 1 } : {}) }) as NewRunEvent;
      /**
       * Watch `id` after seq `after` until seq `last` arrives: the seqs seen, `caughtUp` once seq
       * `caughtUpAt` (a past one) was seen, so a write made then is one the watch hears live.
       */
      const watchUntil = (
        id: string,
        { after, caughtUpAt, last }: { after?: number; caughtUpAt: number; last: number },
      ) => {
        const stop = new AbortController();
        const seen: number[] = [];
        let reached!: () => void;
        const caughtUp = new Promise<void>((resolve) => {
          reached = resolve;
        });
        const done = (async () => {
          for await (const e of store.watch!(id, {
            ...(after === undefined ? {} : { after }),
            signal: stop.signal,
          })) {
            seen.push(e.seq);
            if (e.seq === caughtUpAt) reached();
            if (e.seq === last) stop.abort();
          }
        })();
        return { seen, caughtUp, done };
      };
      const history = async (id: string, after?: number) =>
        (await store.history!(id, after === undefined ? {} : { after }))?.map(
          (e) => `${e.seq} ${e.task ?? '[run]'} ${e.state}`,
        );

      it('numbers the events a create and its writes record, in order, with no gap', async () => {
        expect(
          await store.create(
            meta('h1'),
            {},
            { events: [event(undefined, 'RUNNING'), event('a', 'RUNNING')] },
          ),
        ).toBe(true);
        const claimed = (await store.claim('h1', 'engine-a'))!;
        const write = (seq: number, events: NewRunEvent[]): RunWrite => ({
          runId: 'h1',
          token: claimed.token,
          seq,
          meta: meta('h1', { owner: 'engine-a' }),
          set: {},
          events,
        });
        await store.save(write(1, [event('a', 'SUCCESS', 1_001), event('b', 'RUNNING', 1_002)]));
        await store.save(write(2, []));
        await store.save(
          write(3, [
            event('b', 'FAILURE', 1_003),
            { at: 1_004, task: 'b', state: 'REVERTING', attempt: 2, error: { name: 'E', message: 'm' } },
          ]),
        );
        expect(await history('h1')).toEqual([
          '1 [run] RUNNING',
          '2 a RUNNING',
          '3 a SUCCESS',
          '4 b RUNNING',
          '5 b FAILURE',
          '6 b REVERTING',
        ]);
        expect(await history('h1', 4)).toEqual(['5 b FAILURE', '6 b REVERTING']);
        // After a seq recorded by a write together with others: only the later ones.
        expect(await history('h1', 3)).toEqual(['4 b RUNNING', '5 b FAILURE', '6 b REVERTING']);
        expect(await history('h1', 5)).toEqual(['6 b REVERTING']);
        expect(await history('h1', 1)).toHaveLength(5);
        expect(await history('h1', 6)).toEqual([]);
        expect((await store.history!('h1'))![5]).toEqual({
          seq: 6,
          at: 1_004,
          task: 'b',
          state: 'REVERTING',
          attempt: 2,
          error: { name: 'E', message: 'm' },
        });
        // A refused write (stale token, wrong version) records nothing.
        await store.claim('h1', 'engine-b');
        await expect(store.save(write(4, [event('c', 'RUNNING')]))).rejects.toBeInstanceOf(LeaseLostError);
        expect(await history('h1')).toHaveLength(6);
      });

      it('has none for an absent run, and goes with the run when it is deleted or purged', async () => {
        expect(await store.history!('absent')).toBeUndefined();
        await store.create(
          meta('h1', { status: 'SUCCESS', updatedAt: Date.now() - HOUR }),
          {},
          {
            events: [event(undefined, 'RUNNING')],
          },
        );
        await store.create(
          meta('h2', { status: 'SUCCESS', updatedAt: Date.now() - HOUR }),
          {},
          {
            events: [event(undefined, 'RUNNING')],
          },
        );
        expect(await store.delete('h1')).toBe(true);
        expect(await store.history!('h1')).toBeUndefined();
        expect(await store.purge({ olderThanMs: 1 })).toBe(1);
        expect(await store.history!('h2')).toBeUndefined();
        // A run created again under that id starts a history of its own.
        await store.create(meta('h1'), {}, { events: [event(undefined, 'RUNNING', 2_000)] });
        expect(await history('h1')).toEqual(['1 [run] RUNNING']);
      });

      it('watch gives past events, then live ones, until its signal aborts', async () => {
        await store.create(meta('h1'), {}, { events: [event(undefined, 'RUNNING')] });
        const claimed = (await store.claim('h1', 'engine-a'))!;
        const watch = watchUntil('h1', { caughtUpAt: 1, last: 3 });
        await watch.caughtUp;
        await store.save({
          runId: 'h1',
          token: claimed.token,
          seq: 1,
          meta: meta('h1'),
          set: {},
          events: [event('a', 'RUNNING'), event('a', 'SUCCESS')],
        });
        await watch.done;
        expect(watch.seen).toEqual([1, 2, 3]);
      });

      it('watch after a seq that a write recorded with others gives only the later ones, past and live', async () => {
        await store.create(meta('h1'), {}, { events: [event(undefined, 'RUNNING'), event('a', 'RUNNING')] });
        const claimed = (await store.claim('h1', 'engine-a'))!;
        // Seq 1 was stored with seq 2; the write below stores 3, 4 and 5: the watch resumes inside both.
        const watch = watchUntil('h1', { after: 1, caughtUpAt: 2, last: 5 });
        await watch.caughtUp;
        await store.save({
          runId: 'h1',
          token: claimed.token,
          seq: 1,
          meta: meta('h1'),
          set: {},
          events: [event('a', 'SUCCESS'), event('b', 'RUNNING'), event('c', 'RUNNING')],
        });
        await watch.done;
        expect(watch.seen).toEqual([2, 3, 4, 5]);
        const later: number[] = [];
        const again = new AbortController();
        for await (const e of store.watch!('h1', { after: 4, signal: again.signal })) {
          later.push(e.seq);
          again.abort();
        }
        expect(later).toEqual([5]);
      });
    });

    it('closes idempotently', async () => {
      await store.close();
      await store.close();
    });
  });
}

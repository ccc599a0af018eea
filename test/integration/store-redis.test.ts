import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionError,
  LeaseLostError,
  SnapshotCorruptError,
  StoreUnavailableError,
  VersionConflictError,
} from '../../src/errors.js';
import { redisStore } from '../../src/store/redis-store.js';
import { RUN_STATUSES, type RunStatus, type RunWrite, type Store } from '../../src/store/store.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { describeStoreContract, meta } from './store-contract.js';

let admin: Redis;
beforeAll(() => {
  admin = newRedis();
});
afterAll(async () => {
  await admin.quit();
});

describeStoreContract('redisStore (URL, own client)', async () => {
  const prefix = testPrefix('store');
  const store = redisStore({ redis: REDIS_URL, prefix });
  return {
    store,
    async cleanup() {
      await store.close();
      await cleanPrefix(admin, prefix);
    },
  };
});

describe('redisStore on Redis', () => {
  let prefix: string;
  let client: Redis;
  let store: Store;
  beforeEach(() => {
    prefix = testPrefix('redis');
    client = newRedis();
    store = redisStore({ redis: client, prefix });
  });
  afterEach(async () => {
    await store.close();
    await client.quit();
    await cleanPrefix(admin, prefix);
  });

  const keys = (runId: string) => ({
    meta: `{${prefix}:${runId}}:meta`,
    parts: `{${prefix}:${runId}}:parts`,
  });

  it('validates its options with messages that say what was expected and what was got', () => {
    expect(() => redisStore({ redis: client, prefix: '' })).toThrow(
      'Expected `prefix` to be a non-empty string without { or }, got `` (string)',
    );
    expect(() => redisStore({ redis: 'localhost:6379' })).toThrow(
      'Expected `redis` to be a redis:// or rediss:// URL or an ioredis Redis or Cluster client, got `localhost:6379` (string)',
    );
    expect(() => redisStore({ redis: client, unavailableDeadlineMs: 0 })).toThrow(
      'Expected `unavailableDeadlineMs` to be a number from 1 and up, got `0` (number)',
    );
    expect(() => redisStore({ redis: {} as Redis })).toThrow(InvalidOptionError);
    expect(() => redisStore({ redis: {} as Redis })).toThrow('got `{}` (object)');
  });

  it('keeps a run under one hash tag, marked as taskweave data', async () => {
    await store.create(meta('r1', { owner: 'engine-a' }), { a: '1' });
    expect(await admin.hgetall(keys('r1').meta)).toMatchObject({
      kind: 'tw:run:1',
      flow: 'boot',
      token: '1',
      seq: '0',
      owner: 'engine-a',
    });
    expect(await admin.hgetall(keys('r1').parts)).toEqual({ a: '1' });
    expect(await admin.zscore(`${prefix}:idx:PENDING`, 'r1')).not.toBeNull();
  });

  it("keeps a run's history as a stream under the run's hash tag, and deletes it with the run", async () => {
    const events = `{${prefix}:r1}:events`;
    await store.create(meta('r1'), { a: '1' }, { events: [{ at: 5, state: 'RUNNING' }] });
    expect(await admin.type(events)).toBe('stream');
    // One entry per write, numbered by its last event's seq; its events as rows [dt, task or 0, state, …].
    expect(await admin.xrange(events, '-', '+')).toEqual([['0-1', ['b', '[[5,0,"RUNNING"]]']]]);
    expect(await admin.hget(keys('r1').meta, 'events')).toBe('1');
    const claimed = (await store.claim('r1', 'engine-a'))!;
    await store.save({
      runId: 'r1',
      token: claimed.token,
      seq: 1,
      meta: meta('r1'),
      set: {},
      events: [
        { at: 6, task: 'a', state: 'RUNNING', attempt: 1 },
        { at: 7, task: 'a', state: 'SUCCESS', attempt: 1 },
      ],
    });
    expect(await admin.xlen(events)).toBe(2);
    expect((await admin.xrange(events, '-', '+'))[1]).toEqual([
      '0-3',
      ['b', '[[6,"a","RUNNING",1],[1,"a","SUCCESS",1]]'],
    ]);
    expect(
      (await store.history!('r1'))!.map(({ seq, at, task, state, attempt }) => [
        seq,
        at,
        task,
        state,
        attempt,
      ]),
    ).toEqual([
      [1, 5, undefined, 'RUNNING', undefined],
      [2, 6, 'a', 'RUNNING', 1],
      [3, 7, 'a', 'SUCCESS', 1],
    ]);
    expect(await admin.hget(keys('r1').meta, 'events')).toBe('3');
    expect(await store.delete('r1')).toBe(true);
    expect(await admin.exists(keys('r1').meta, keys('r1').parts, events)).toBe(0);
    await store.create(
      meta('r2', { status: 'SUCCESS', updatedAt: Date.now() - 10_000 }),
      {},
      {
        events: [{ at: 5, state: 'RUNNING' }],
      },
    );
    expect(await store.purge({ olderThanMs: 1_000 })).toBe(1);
    expect(await admin.exists(`{${prefix}:r2}:events`)).toBe(0);
  });

  it("a history left under an id with no run (its run deleted by hand) is not the new run's", async () => {
    const stream = `{${prefix}:left}:events`;
    await admin.xadd(stream, '0-50', 'b', JSON.stringify([{ at: 1, state: 'RUNNING' }]));
    expect(await store.create(meta('left'), {}, { events: [{ at: 7, state: 'RUNNING' }] })).toBe(true);
    expect(await store.history!('left')).toEqual([{ seq: 1, at: 7, state: 'RUNNING' }]);
  });

  describe('status index entries move with the status when another store wrote the run meanwhile', () => {
    // Each store sends the index keys of the move it expects from the status it last wrote; a run
    // another store moved since must still leave the index entry of the status it really had.
    const indexed = async (id: string) => {
      const found: string[] = [];
      for (const status of RUN_STATUSES) {
        if ((await admin.zscore(`${prefix}:idx:${status}`, id)) !== null) found.push(status);
      }
      return found;
    };
    const save = (on: Store, id: string, seq: number, status: RunStatus) =>
      on.save({ runId: id, token: 1, seq, meta: meta(id, { status }), set: { a: String(seq) } });

    it.each([
      ['keeping the status it last wrote', 'PENDING'],
      ['leaving the status it last wrote', 'SUCCESS'],
    ] as const)('a write %s, when the run is in another one', async (_, status) => {
      const other = redisStore({ redis: client, prefix });
      await store.create(meta('moved', { status: 'PENDING' }), { a: '0' });
      await save(other, 'moved', 1, 'SUSPENDED');
      expect(await indexed('moved')).toEqual(['SUSPENDED']);
      await save(store, 'moved', 2, status);
      expect(await indexed('moved')).toEqual([status]);
      expect((await store.load('moved'))?.meta.status).toBe(status);
      await other.close();
    });

    it('writes that keep the status and then leave it, from one store', async () => {
      await store.create(meta('own', { status: 'RUNNING' }), { a: '0' });
      await save(store, 'own', 1, 'RUNNING');
      await save(store, 'own', 2, 'RUNNING');
      expect(await indexed('own')).toEqual(['RUNNING']);
      await save(store, 'own', 3, 'SUCCESS');
      expect(await indexed('own')).toEqual(['SUCCESS']);
    });
  });

  describe('a history stored one event per entry (by releases before writes were batched)', () => {
    // What those releases left: entries '0-<seq>' with field 'e', and meta's counter at the last seq.
    const oldRun = async (id: string) => {
      await store.create(meta(id, { status: 'RUNNING' }), {});
      const stream = `{${prefix}:${id}}:events`;
      await admin.xadd(stream, '0-1', 'e', JSON.stringify({ at: 1, state: 'RUNNING' }));
      await admin.xadd(
        stream,
        '0-2',
        'e',
        JSON.stringify({ at: 2, task: 'a', state: 'RUNNING', attempt: 1 }),
      );
      await admin.xadd(
        stream,
        '0-3',
        'e',
        JSON.stringify({ at: 3, task: 'a', state: 'SUCCESS', attempt: 1 }),
      );
      await admin.hset(keys(id).meta, 'events', '3');
      const claimed = (await store.claim(id, 'engine-a'))!;
      // This release goes on after it, in batches.
      await store.save({
        runId: id,
        token: claimed.token,
        seq: 1,
        meta: meta(id, { status: 'SUCCESS' }),
        set: {},
        events: [
          { at: 4, task: 'b', state: 'RUNNING', attempt: 1 },
          { at: 5, task: 'b', state: 'SUCCESS', attempt: 1 },
          { at: 6, state: 'SUCCESS' },
        ],
      });
    };
    const line = (e: { seq: number; at: number; task?: string; state: string }) =>
      `${e.seq}@${e.at} ${e.task ?? '[run]'} ${e.state}`;
    const all = [
      '1@1 [run] RUNNING',
      '2@2 a RUNNING',
      '3@3 a SUCCESS',
      '4@4 b RUNNING',
      '5@5 b SUCCESS',
      '6@6 [run] SUCCESS',
    ];

    it('is read whole and after any seq, the events this release appends numbered on from it', async () => {
      await oldRun('old');
      expect((await store.history!('old'))!.map(line)).toEqual(all);
      for (let after = 0; after <= 6; after++) {
        expect((await store.history!('old', { after }))!.map(line)).toEqual(all.slice(after));
      }
    });

    it('is watched from any seq, old entries and batches alike', async () => {
      await oldRun('old');
      for (const after of [0, 2, 3, 4, 5]) {
        const stop = new AbortController();
        const seen: string[] = [];
        for await (const e of store.watch!('old', { after, signal: stop.signal })) {
          seen.push(line(e));
          if (e.seq === 6) stop.abort();
        }
        expect(seen).toEqual(all.slice(after));
      }
    });
  });

  it('drops what is not an event, in either layout, and keeps the rest of the history', async () => {
    await store.create(meta('mixed', { status: 'RUNNING' }), {});
    const stream = `{${prefix}:mixed}:events`;
    await admin.xadd(stream, '0-1', 'e', 'not json');
    await admin.xadd(stream, '0-2', 'x', '{"at":2,"state":"RUNNING"}');
    await admin.xadd(stream, '0-4', 'b', '[{"at":3,"state":"RUNNING"},{"at":4,"task":"a"}]');
    await admin.xadd(stream, '0-5', 'b', '{"at":5,"state":"RUNNING"}');
    await admin.xadd(stream, '0-6', 'b', '[oops');
    await admin.xadd(stream, '0-7', 'e', '{"at":7,"task":"a","state":"RUNNING"}');
    expect((await store.history!('mixed'))!.map((e) => `${e.seq}@${e.at}`)).toEqual(['3@3', '7@7']);
  });

  it('keeps at least historyLimit events, and fewer than one write more, however many events a write records', async () => {
    const capped = redisStore({ redis: client, prefix, historyLimit: 10 });
    await capped.create(meta('cap', { status: 'RUNNING' }), {});
    const claimed = (await capped.claim('cap', 'engine-a'))!;
    for (let seq = 1; seq <= 20; seq++) {
      await capped.save({
        runId: 'cap',
        token: claimed.token,
        seq,
        meta: meta('cap', { status: 'RUNNING' }),
        set: {},
        events: Array.from({ length: 4 }, (_, i) => ({
          at: seq * 10 + i,
          task: `t${seq}`,
          state: 'RUNNING',
        })),
      });
    }
    const seqs = (await capped.history!('cap'))!.map((e) => e.seq);
    // 80 events in writes of 4: the newest 10 fall in 3 writes, whose 12 events stay (the cap counts
    // events, not entries: 10 entries would be 40 events).
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => 69 + i));
    await capped.close();
  });

  describe('foreign or corrupt data gives SnapshotCorruptError for that run only', () => {
    const cases: [string, (id: string) => Promise<unknown>][] = [
      ['a string where the meta hash should be', (id) => admin.set(keys(id).meta, 'hello')],
      ['a meta hash without the marker', (id) => admin.hdel(keys(id).meta, 'kind')],
      ['a garbage token', (id) => admin.hset(keys(id).meta, 'token', 'NaN')],
      [
        'a list where the parts hash should be',
        (id) => admin.del(keys(id).parts).then(() => admin.rpush(keys(id).parts, 'x')),
      ],
      ['an unknown status', (id) => admin.hset(keys(id).meta, 'status', 'EXPLODED')],
    ];
    for (const [what, corrupt] of cases) {
      it(what, async () => {
        await store.create(meta('good'), { a: '1' });
        await store.create(meta('bad', { status: 'RUNNING' }), { a: '1' });
        await corrupt('bad');
        const dump = async () => [await admin.dump(keys('bad').meta), await admin.dump(keys('bad').parts)];
        const before = await dump();
        const write: RunWrite = { runId: 'bad', token: 1, seq: 1, meta: meta('bad'), set: { a: '2' } };
        // The scripts see the keys are not a run before touching them (a claim takes no token).
        await expect(store.claim('bad', 'engine-a')).rejects.toBeInstanceOf(SnapshotCorruptError);
        await expect(store.save(write)).rejects.toBeInstanceOf(SnapshotCorruptError);
        await expect(store.delete('bad')).rejects.toBeInstanceOf(SnapshotCorruptError);
        await expect(store.load('bad')).rejects.toThrow(SnapshotCorruptError);
        await expect(store.load('bad')).rejects.toMatchObject({ runId: 'bad' });
        expect(await dump()).toEqual(before);
        expect(await store.create(meta('bad'), {})).toBe(false);
        // The other run is untouched and still works.
        const claimed = await store.claim('good', 'engine-a');
        await store.save({
          runId: 'good',
          token: claimed!.token,
          seq: 1,
          meta: meta('good'),
          set: { a: '2' },
        });
        expect((await store.load('good'))?.parts).toEqual({ a: '2' });
        // list() reads meta only, and never hides a run: one whose meta is not a run's is listed as
        // corrupt, with the reason.
        const listed = await store.list();
        expect(listed.map((m) => m.id).sort()).toEqual(['bad', 'good']);
        expect(listed.find((m) => m.id === 'good')).toMatchObject({ flow: 'boot' });
        const bad = listed.find((m) => m.id === 'bad');
        if (what.includes('parts')) expect(bad).toMatchObject({ status: 'RUNNING' });
        else expect(bad).toEqual({ id: 'bad', corrupt: expect.stringMatching(/meta/) });
      });
    }
  });

  it('gives distinct, increasing tokens to concurrent claims from two stores; only the latest may write', async () => {
    const other = redisStore({ redis: REDIS_URL, prefix });
    try {
      await store.create(meta('r1'), {});
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).claim('r1', `engine-${i}`)),
      );
      const tokens = claims.map((c) => c!.token).sort((a, b) => a - b);
      expect(tokens).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
      const latest = Math.max(...tokens);
      const write = (token: number): RunWrite => ({
        runId: 'r1',
        token,
        seq: 1,
        meta: meta('r1'),
        set: { who: String(token) },
      });
      const results = await Promise.allSettled(tokens.map((t, i) => (i % 2 ? other : store).save(write(t))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LeaseLostError);
      }
      expect((await other.load('r1'))?.parts).toEqual({ who: String(latest) });
    } finally {
      await other.close();
    }
  });

  it('sends only the changed part: saving 1 of 1,000 parts writes a few hundred bytes, not the run', async () => {
    const parts = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`task-${i}`, 'x'.repeat(1000)]));
    await store.create(meta('big'), parts);
    const claimed = await store.claim('big', 'engine-a');
    const save = (seq: number, value: string) =>
      store.save({ runId: 'big', token: claimed!.token, seq, meta: meta('big'), set: { 'task-7': value } });
    await save(1, 'warm up'); // loads the script (EVAL once, EVALSHA afterwards)
    const socket = (client as unknown as { stream: { bytesWritten: number } }).stream;
    const sent = socket.bytesWritten;
    await save(2, 'done');
    const bytes = socket.bytesWritten - sent;
    // The run holds ~1 MB; the save plus its index update must stay far below one part per task.
    expect(bytes).toBeLessThan(1500);
    expect(await admin.hlen(keys('big').parts)).toBe(1000);
    expect(await admin.hget(keys('big').parts, 'task-7')).toBe('done');
    expect(await admin.hget(keys('big').parts, 'task-8')).toBe('x'.repeat(1000));
  });

  it('treats an exact replay of the last write as applied, any other write at that version as a conflict', async () => {
    await store.create(meta('r1'), {});
    const claimed = await store.claim('r1', 'engine-a');
    const write: RunWrite = { runId: 'r1', token: claimed!.token, seq: 1, meta: meta('r1'), set: { a: '1' } };
    await store.save(write);
    await store.save({ ...write, set: { ...write.set } });
    await expect(store.save({ ...write, set: { a: 'other' } })).rejects.toBeInstanceOf(VersionConflictError);
    expect(await store.load('r1')).toMatchObject({ seq: 1, parts: { a: '1' } });
  });

  it('recognises a replay by content: parts set and removed, owner, status; any difference is a conflict', async () => {
    await store.create(meta('r2'), { keep: 'k', drop: 'x' });
    const claimed = await store.claim('r2', 'engine-a');
    const { owner: _owner, ...ended } = meta('r2', { status: 'SUCCESS' });
    const write: RunWrite = {
      runId: 'r2',
      token: claimed!.token,
      seq: 1,
      meta: ended,
      set: { a: '1' },
      del: ['drop'],
    };
    await store.save(write);
    // Rebuilt a moment later (updatedAt differs): still the same write.
    await store.save({ ...write, meta: { ...write.meta, updatedAt: write.meta.updatedAt + 5 } });
    for (const other of [
      { ...write, set: { a: '1', b: '2' } },
      { ...write, del: ['keep'] },
      { ...write, meta: { ...write.meta, status: 'FAILURE' as const } },
      { ...write, meta: { ...write.meta, owner: 'engine-a' } },
    ]) {
      await expect(store.save(other)).rejects.toBeInstanceOf(VersionConflictError);
    }
    expect(await store.load('r2')).toMatchObject({ seq: 1, parts: { keep: 'k', a: '1' } });
  });

  it('treats the same create retried as applied, and any other create of that id as taken', async () => {
    const first = meta('r3', { owner: 'engine-a' });
    expect(await store.create(first, { inputs: '{"n":1}' })).toBe(true);
    // Its reply was lost: the writer resends the very same create.
    expect(await store.create({ ...first }, { inputs: '{"n":1}' })).toBe(true);
    // Another start of the id, even by the same engine with the same inputs, is not a retry.
    expect(
      await store.create(
        { ...first, createdAt: first.createdAt + 7, updatedAt: first.updatedAt + 7 },
        { inputs: '{"n":1}' },
      ),
    ).toBe(false);
    expect(await store.create(first, { inputs: '{"n":2}' })).toBe(false);
    expect(await store.create({ ...first, owner: 'engine-b' }, { inputs: '{"n":1}' })).toBe(false);
    const claimed = await store.claim('r3', 'engine-c');
    // Once claimed (or written), the same create is no longer a retry.
    expect(await store.create(first, { inputs: '{"n":1}' })).toBe(false);
    expect(claimed?.run.parts).toEqual({ inputs: '{"n":1}' });
  });

  describe('status indexes, kept by the run scripts themselves on a single Redis', () => {
    /** Names of the commands `client` sends while `action` runs (scripts count once, as EVALSHA). */
    async function commandsSent(action: () => Promise<unknown>): Promise<string[]> {
      const names: string[] = [];
      const send = client.sendCommand;
      client.sendCommand = function (this: Redis, command, ...rest) {
        names.push(command.name);
        return send.call(this, command, ...rest);
      } as typeof client.sendCommand;
      try {
        await action();
      } finally {
        client.sendCommand = send;
      }
      return names;
    }
    const entries = async (runId: string) => {
      const found: Record<string, number> = {};
      for (const status of RUN_STATUSES) {
        const score = await admin.zscore(`${prefix}:idx:${status}`, runId);
        if (score !== null) found[status] = Number(score);
      }
      return found;
    };
    const warmUp = async () => {
      // Loads the scripts (EVALSHA fails once with NOSCRIPT, then EVAL): not what the tests count.
      await store.create(meta('warm'), {});
      const { token } = (await store.claim('warm', 'engine-a'))!;
      await store.save({ runId: 'warm', token, seq: 1, meta: meta('warm', { status: 'RUNNING' }), set: {} });
    };

    it('creates a run and lists it with one command, indexed once the create resolves', async () => {
      await warmUp();
      const at = Date.now() - 1000;
      const sent = await commandsSent(() =>
        store.create(meta('r1', { createdAt: at, updatedAt: at }), { a: '1' }),
      );
      expect(sent).toEqual(['evalsha']);
      expect(await entries('r1')).toEqual({ PENDING: at });
    });

    it('moves the entry in the write that changes the status, scored by when the run entered it', async () => {
      await warmUp();
      const t0 = Date.now() - 10_000;
      await store.create(meta('r1', { createdAt: t0, updatedAt: t0 }), {});
      const { token } = (await store.claim('r1', 'engine-a'))!;
      const write = (seq: number, status: RunStatus, updatedAt: number): RunWrite => ({
        runId: 'r1',
        token,
        seq,
        meta: meta('r1', { status, createdAt: t0, updatedAt }),
        set: { step: String(seq) },
      });
      expect(await commandsSent(() => store.save(write(1, 'RUNNING', t0 + 1)))).toEqual(['evalsha']);
      expect(await entries('r1')).toEqual({ RUNNING: t0 + 1 });
      // Writes that keep the status leave the entry (and its score) as it was.
      await store.save(write(2, 'RUNNING', t0 + 2));
      expect(await entries('r1')).toEqual({ RUNNING: t0 + 1 });
      // A run that ends is listed under its final status as soon as its write resolves: no command after.
      expect(await commandsSent(() => store.save(write(3, 'SUCCESS', t0 + 3)))).toEqual(['evalsha']);
      expect(await entries('r1')).toEqual({ SUCCESS: t0 + 3 });
      expect((await store.list({ status: 'SUCCESS' })).map((m) => m.id)).toEqual(['r1']);
      expect(await store.list({ status: ['PENDING', 'RUNNING'] })).toEqual([
        expect.objectContaining({ id: 'warm' }),
      ]);
    });

    it('deletes a run with its index entries in one command; a run created again keeps its new entry', async () => {
      await warmUp();
      const t0 = Date.now() - 10_000;
      await store.create(meta('r1', { status: 'SUCCESS', createdAt: t0, updatedAt: t0 }), {});
      // A stale entry under another status (as a Cluster's best-effort update can leave) goes too.
      await admin.zadd(`${prefix}:idx:RUNNING`, t0 - 1, 'r1');
      expect(await commandsSent(() => store.delete('r1'))).toEqual(['evalsha']);
      expect(await entries('r1')).toEqual({});
      await store.create(meta('r1', { createdAt: t0 + 5, updatedAt: t0 + 5 }), {});
      expect(await entries('r1')).toEqual({ PENDING: t0 + 5 });
      await store.save({
        ...(await store.load('r1').then((run) => ({ runId: 'r1', token: run!.token, seq: 1 }))),
        meta: meta('r1', { status: 'SUCCESS', createdAt: t0 + 5, updatedAt: t0 + 6 }),
        set: {},
      });
      expect(await store.purge({ olderThanMs: 0 })).toBe(1); // the warm-up run is RUNNING: kept
      expect(await entries('r1')).toEqual({});
    });

    it('leaves the index as the replayed write left it', async () => {
      const t0 = Date.now() - 10_000;
      await store.create(meta('r1', { createdAt: t0, updatedAt: t0 }), {});
      const { token } = (await store.claim('r1', 'engine-a'))!;
      const write: RunWrite = {
        runId: 'r1',
        token,
        seq: 1,
        meta: meta('r1', { status: 'SUSPENDED', createdAt: t0, updatedAt: t0 + 1 }),
        set: { a: '1' },
      };
      await store.save(write);
      // Retried a moment later (the first reply was lost): same write, later updatedAt.
      const retry = { ...write, meta: { ...write.meta, updatedAt: t0 + 2 } };
      expect(await commandsSent(() => store.save(retry))).toEqual(['evalsha']);
      expect(await entries('r1')).toEqual({ SUSPENDED: t0 + 1 });
    });

    it('writes no index entry when a check fails', async () => {
      await store.create(meta('r1'), {});
      const { token } = (await store.claim('r1', 'engine-a'))!;
      const running = meta('r1', { status: 'RUNNING' });
      await expect(
        store.save({ runId: 'r1', token: token - 1, seq: 1, meta: running, set: {} }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.save({ runId: 'r1', token, seq: 2, meta: running, set: {} })).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect(Object.keys(await entries('r1'))).toEqual(['PENDING']);
    });
  });

  it('drops and prunes status index entries that no longer match the run', async () => {
    const now = Date.now();
    await store.create(meta('r1', { status: 'SUCCESS', updatedAt: now }), {});
    await admin.zadd(`${prefix}:idx:RUNNING`, now - 10, 'r1'); // left over by a lost index update
    await admin.zadd(`${prefix}:idx:RUNNING`, now - 10, 'gone'); // a run deleted without its index entry
    expect((await store.list({ status: 'RUNNING' })).map((m) => m.id)).toEqual([]);
    expect(await admin.zcard(`${prefix}:idx:RUNNING`)).toBe(0);
    expect((await store.list()).map((m) => m.id)).toEqual(['r1']);
  });

  it('reports a client closed by its owner as unavailable at once, not after the deadline', async () => {
    const closing = newRedis();
    const onClosed = redisStore({ redis: closing, prefix });
    await closing.quit();
    const began = Date.now();
    await expect(onClosed.load('r1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - began).toBeLessThan(1000);
    await onClosed.close();
  });

  it('leaves a client it was given open, and closes one it opened', async () => {
    const own = redisStore({ redis: REDIS_URL, prefix });
    await own.create(meta('r1'), {});
    await own.close();
    await expect(own.load('r1')).rejects.toThrow('Expected an open store, got one that was closed');
    await store.close();
    expect(await client.ping()).toBe('PONG');
  });
});

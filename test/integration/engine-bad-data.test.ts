import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdsChildren } from '../../src/engine/snapshot-parts.js';
import {
  createEngine,
  type Engine,
  redisStore,
  SnapshotCorruptError,
  type Store,
  UnknownFlowError,
} from '../../src/index.js';
import {
  type EffectLog,
  PROVISION_RESULTS,
  parkProvision,
  provisionFlow,
  redisEffects,
} from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';
import { dumpPrefix } from '../support/redis-dump.js';

/**
 * Invariant 6, nothing is lost on bad data: a corrupt or foreign snapshot gives SnapshotCorruptError for
 * that run only, leaves its keys as they were, and other runs resume fine. A run of a flow this engine
 * does not know gives UnknownFlowError.
 */
const CORRUPTIONS: Record<string, (redis: Redis, keys: { meta: string; parts: string }) => Promise<unknown>> =
  {
    'a part that is not JSON': (redis, { parts }) => redis.hset(parts, 't:format', 'not json{'),
    'a task part of the wrong shape': (redis, { parts }) => redis.hset(parts, 't:tag', '{"state":"SUCCESS"}'),
    'a task in a state that does not exist': (redis, { parts }) =>
      redis.hset(parts, 't:attach', '["FLYING",{"s":"FLYING","a":1}]'),
    'a core part of another run': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as { context: { runId: string } };
      core.context.runId = 'someone-else';
      await redis.hset(parts, 'core', JSON.stringify(core));
    },
    'a core part whose snapshot status is error': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as Record<string, unknown>;
      await redis.hset(parts, 'core', JSON.stringify({ ...core, status: 'error', error: 'boom' }));
    },
    'a core part whose snapshot is done': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as Record<string, unknown>;
      await redis.hset(parts, 'core', JSON.stringify({ ...core, status: 'done', output: 1 }));
    },
    'a core part without the actor of a running task': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as Record<string, unknown>;
      await redis.hset(parts, 'core', JSON.stringify({ ...core, children: {} }));
    },
    'a core part with a child actor of unknown source': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as Record<string, unknown>;
      const children = {
        'execute:attach': { snapshot: { status: 'active' }, src: 'rm -rf', syncSnapshot: false },
      };
      await redis.hset(parts, 'core', JSON.stringify({ ...core, children }));
    },
    'a lane idle while its task runs': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as { value: Record<string, string> };
      for (const lane of Object.keys(core.value)) core.value[lane] = 'idle';
      await redis.hset(parts, 'core', JSON.stringify(core));
    },
    'a lane naming its running task in another state': async (redis, { parts }) => {
      const core = JSON.parse((await redis.hget(parts, 'core'))!) as { value: Record<string, unknown> };
      for (const [lane, state] of Object.entries(core.value))
        if (state !== 'idle') core.value[lane] = { attach: 'REVERTING' };
      await redis.hset(parts, 'core', JSON.stringify(core));
    },
    'a child part without the actor of a running task': (redis, { parts }) =>
      redis.hset(parts, 'c:attach', 'null'),
    'a child part of unknown source': (redis, { parts }) =>
      redis.hset(
        parts,
        'c:attach',
        '{"id":"execute:attach","snapshot":{"status":"active"},"src":"rm -rf","syncSnapshot":false}',
      ),
    "a child part holding another task's actor": (redis, { parts }) =>
      redis.hset(parts, 'c:attach', '{"id":"execute:format","snapshot":{"status":"active"},"src":"execute"}'),
    'a child part that is not JSON': (redis, { parts }) => redis.hset(parts, 'c:attach', '{"id":'),
    'a core part that is a JSON string': (redis, { parts }) => redis.hset(parts, 'core', '"just a string"'),
    'a missing task part': (redis, { parts }) => redis.hdel(parts, 't:reserve'),
    'a task in state BOGUS': (redis, { parts }) => redis.hset(parts, 't:format', '{"s":"BOGUS","a":1}'),
    'every task part deleted': async (redis, { parts }) => {
      const names = (await redis.hkeys(parts)).filter((name) => name.startsWith('t:'));
      await redis.hdel(parts, ...names);
    },
    'a meta key holding a string': async (redis, { meta }) => {
      await redis.del(meta);
      await redis.set(meta, 'hello');
    },
    'a meta hash without the taskweave marker': (redis, { meta }) => redis.hset(meta, 'kind', 'other-app'),
  };

describe('bad data under a run (invariant 6)', () => {
  let redis: Redis;
  let prefix: string;
  let log: EffectLog;
  let store: Store;
  let engine: Engine;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('corrupt');
    log = redisEffects(redis, prefix);
    store = redisStore({ redis, prefix });
    engine = createEngine({ store, flows: [provisionFlow(log, { label: 'resumer' })] });
  });

  afterEach(async () => {
    await engine.close();
    await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  const keysOf = (runId: string) => ({
    meta: `{${prefix}:${runId}}:meta`,
    parts: `{${prefix}:${runId}}:parts`,
  });

  it('resumes a run stored with its child actors in its core (before c: parts), and its next write splits them out', async () => {
    await parkProvision(store, log, 'legacy');
    const { parts } = keysOf('legacy');
    // The stored format before child actors had parts of their own: every child in the core.
    const stored = await redis.hgetall(parts);
    const children: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(stored)) {
      if (!name.startsWith('c:')) continue;
      const entry = JSON.parse(text) as { id: string } | null;
      if (entry === null) continue;
      const { id, ...child } = entry;
      children[id] = child;
    }
    expect(Object.keys(children)).toEqual(['execute:attach']);
    const core = JSON.parse(stored.core!) as Record<string, unknown>;
    await redis.hset(parts, 'core', JSON.stringify({ ...core, children }));
    await redis.hdel(parts, ...Object.keys(stored).filter((name) => name.startsWith('c:')));
    expect(holdsChildren(await redis.hgetall(parts))).toBe(true);

    const run = await engine.resume('legacy');
    expect(await run.result).toEqual(PROVISION_RESULTS);
    const attach = (await log.all()).filter((e) => e.task === 'attach' && e.kind === 'execute');
    expect(attach.map((e) => e.label)).toEqual(['parker', 'resumer']);
    const after = await redis.hgetall(parts);
    expect(holdsChildren(after)).toBe(false);
    expect(Object.keys(after).filter((name) => name.startsWith('c:'))).toHaveLength(
      Object.keys(after).filter((name) => name.startsWith('t:')).length,
    );
  });

  it('stores a busy lane as earlier releases did ({ attach: RUNNING }), so they can continue the run, and resumes it', async () => {
    await parkProvision(store, log, 'nested');
    const { parts } = keysOf('nested');
    const core = JSON.parse((await redis.hget(parts, 'core'))!) as { value: Record<string, unknown> };
    expect(Object.values(core.value)).toContainEqual({ attach: 'RUNNING' });
    expect(Object.values(core.value).filter((state) => state !== 'idle')).toHaveLength(1);

    const run = await engine.resume('nested');
    expect(await run.result).toEqual(PROVISION_RESULTS);
    const attach = (await log.all()).filter((e) => e.task === 'attach' && e.kind === 'execute');
    expect(attach.map((e) => e.label)).toEqual(['parker', 'resumer']);
  });

  it('refuses each corrupt run with SnapshotCorruptError, untouched, while a sound run resumes', async () => {
    const names = Object.keys(CORRUPTIONS);
    const ids = names.map((_, i) => `bad-${i}`);
    for (const id of [...ids, 'sound']) await parkProvision(store, log, id);
    for (const [i, name] of names.entries()) await CORRUPTIONS[name]!(redis, keysOf(ids[i]!));
    const before = await dumpPrefix(redis, prefix);

    for (const [i, name] of names.entries()) {
      const error = await engine.resume(ids[i]!).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(SnapshotCorruptError);
      expect(error, name).toMatchObject({ runId: ids[i] });
    }
    await expect(engine.revert(ids[0]!)).rejects.toBeInstanceOf(SnapshotCorruptError);
    // engine.get validates as resume does, with the flow and without it (an engine that knows no flow).
    const stranger = createEngine({ store, closeStore: false });
    try {
      for (const [i, name] of names.entries()) {
        await expect(engine.get(ids[i]!), name).rejects.toBeInstanceOf(SnapshotCorruptError);
      }
      for (const name of ['a task in state BOGUS', 'every task part deleted', 'a part that is not JSON']) {
        await expect(stranger.get(ids[names.indexOf(name)]!), name).rejects.toBeInstanceOf(
          SnapshotCorruptError,
        );
      }
    } finally {
      await stranger.close();
    }
    // Listing never hides them: a corrupt meta is listed as corrupt, with the reason.
    const all = await store.list({ limit: 1000 });
    for (const id of ids) expect(all.map((entry) => entry.id)).toContain(id);
    expect(
      all.find((entry) => entry.id === ids[names.indexOf('a meta hash without the taskweave marker')]),
    ).toEqual({
      id: ids[names.indexOf('a meta hash without the taskweave marker')],
      corrupt: expect.stringMatching(/marker/),
    });
    expect(await dumpPrefix(redis, prefix)).toEqual(before);

    const run = await engine.resume('sound');
    expect(await run.result).toEqual(PROVISION_RESULTS);
    // Listing still works with the corrupt runs in the indexes.
    const listed = (await store.list({ status: ['RUNNING', 'SUCCESS'] })).map((m) => m.id);
    expect(listed).toContain('sound');
  });

  it('gives UnknownFlowError for a run of a flow the engine does not know, and leaves it alone', async () => {
    await parkProvision(store, log, 'orphan');
    const before = await dumpPrefix(redis, prefix);
    const stranger = createEngine({ store, closeStore: false });
    try {
      const error = await stranger.resume('orphan').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownFlowError);
      expect(error).toMatchObject({ flow: 'provision', known: [] });
      await expect(stranger.revert('orphan')).rejects.toBeInstanceOf(UnknownFlowError);
      // Inspecting needs no code: per-task states come from the stored parts.
      const info = await stranger.get('orphan');
      expect(info?.tasks.attach?.state).toBe('RUNNING');
      expect(info?.tasks.format).toMatchObject({ state: 'SUCCESS', result: 'disk-slot-web' });
      expect(await dumpPrefix(redis, prefix)).toEqual(before);
    } finally {
      await stranger.close();
    }
    const run = await engine.resume('orphan');
    expect(await run.result).toEqual(PROVISION_RESULTS);
  });
});

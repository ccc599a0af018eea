import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/compile/run-context.js';
import {
  createEngine,
  type Engine,
  FlowFailedError,
  type RunStatus,
  redisStore,
  type Store,
} from '../../src/index.js';
import { decodeValue, parse } from '../../src/model/codec.js';
import { type Effect, type EffectLog, PROVISION_RESULTS, provisionFlow } from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';

/**
 * Invariant 1, durable before effect: an execute (revert) starts only once a snapshot showing its task
 * RUNNING (REVERTING) with all its inputs has been acknowledged by the store; so a dependent starts only
 * after its providers' results are stored, and `run.result` settles only after the end is stored.
 *
 * The store here acknowledges every save 15 ms after Redis applied it, and keeps a view of what it
 * acknowledged; each effect checks that view at the very moment it starts, and Redis itself.
 */
const PROVIDER: Record<string, string> = { slot: 'reserve', disk: 'format', tags: 'tag', mount: 'attach' };

interface AckedView {
  status: RunStatus | undefined;
  parts: Record<string, string>;
}

/** A store whose acknowledgements lag behind Redis, with a view of what it has acknowledged so far. */
function slowAckStore(inner: Store, delayMs: number): { store: Store; acked: AckedView } {
  const acked: AckedView = { status: undefined, parts: {} };
  const later = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  const store: Store = {
    ...inner,
    async create(meta, parts) {
      const created = await inner.create(meta, parts);
      await later();
      if (created) Object.assign(acked, { status: meta.status, parts: { ...parts } });
      return created;
    },
    async save(write) {
      await inner.save(write);
      await later();
      acked.status = write.meta.status;
      Object.assign(acked.parts, write.set);
      for (const name of write.del ?? []) delete acked.parts[name];
    },
  };
  return { store, acked };
}

function partOf(
  parts: Record<string, string>,
  task: string,
): { state: string; record: TaskRecord } | undefined {
  const text = parts[`t:${task}`];
  if (text === undefined) return undefined;
  const record = JSON.parse(text) as TaskRecord;
  return { state: record.s, record };
}

interface Check {
  effect: Effect;
  /** The task's state in the acknowledged view when the effect began. */
  ackedState: string | undefined;
  /** The task's state in Redis when the effect began. */
  redisState: string | undefined;
  /** Argument name → is it the value the acknowledged view holds? */
  inputsStored: Record<string, boolean>;
}

describe('durable before effect (invariant 1)', () => {
  let redis: Redis;
  let prefix: string;
  let engine: Engine;
  let acked: AckedView;
  let checks: Check[];

  /** An effect log that, synchronously as an effect begins, compares what it needs with what is stored. */
  const checkingLog = (runId: () => string): EffectLog => {
    const seen: Effect[] = [];
    return {
      async record(effect) {
        seen.push(effect);
        const own = partOf(acked.parts, effect.task);
        const check: Check = { effect, ackedState: own?.state, redisState: undefined, inputsStored: {} };
        checks.push(check);
        const raw = await redis.hget(`{${prefix}:${runId()}}:parts`, `t:${effect.task}`);
        check.redisState = raw === null ? undefined : (JSON.parse(raw) as TaskRecord).s;
      },
      async all() {
        return [...seen];
      },
    };
  };

  const argsProbe = (task: string, args: Record<string, unknown>) => {
    const check = checks.findLast((c) => c.effect.task === task)!;
    for (const [name, value] of Object.entries(args)) {
      if (name === 'name') {
        check.inputsStored[name] =
          (parse(acked.parts.inputs ?? '{}') as Record<string, unknown>).name === value;
      } else if (PROVIDER[name]) {
        const provider = partOf(acked.parts, PROVIDER[name]!);
        check.inputsStored[name] =
          provider?.state === 'SUCCESS' &&
          JSON.stringify(decodeValue(provider.record.r)) === JSON.stringify(value);
      }
    }
  };

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('durable');
    checks = [];
  });

  afterEach(async () => {
    await engine.close();
    await engine.store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  const setUp = (runId: string, fail: string[] = []) => {
    const slow = slowAckStore(redisStore({ redis, prefix }), 15);
    acked = slow.acked;
    const flow = provisionFlow(
      checkingLog(() => runId),
      {
        fail,
        // Arguments are only known inside the task; `before` runs right after `record`, in the same turn
        // as far as the store is concerned (no write can be acknowledged in between: a save takes ≥ 15 ms).
        before: (task, kind, _ctx, args) => {
          if (kind === 'execute') argsProbe(task, args);
        },
      },
    );
    engine = createEngine({ store: slow.store, flows: [flow] });
    return flow;
  };

  it('starts each execute only once RUNNING and its inputs are acknowledged; resolves only once SUCCESS is', async () => {
    setUp('durable-success');
    const run = engine.start('provision', { name: 'web' }, { id: 'durable-success' });
    const results = await run.result;
    // Checked synchronously on resolution: no later write could have been acknowledged since.
    expect(acked.status).toBe('SUCCESS');
    expect(results).toEqual(PROVISION_RESULTS);
    expect((await redis.hget(`{${prefix}:durable-success}:meta`, 'status')) as string).toBe('SUCCESS');

    expect(checks.map((c) => c.effect.task).sort()).toEqual(['attach', 'boot', 'format', 'reserve', 'tag']);
    for (const check of checks) {
      expect(check, check.effect.task).toMatchObject({ ackedState: 'RUNNING', redisState: 'RUNNING' });
      const stored = Object.values(check.inputsStored);
      expect(stored.length > 0 && stored.every(Boolean), `${check.effect.task} inputs`).toBe(true);
    }
    expect(Object.keys(checks.find((c) => c.effect.task === 'attach')!.inputsStored).sort()).toEqual([
      'disk',
      'tags',
    ]);
  });

  it('starts each revert only once REVERTING is acknowledged; rejects only once REVERTED is', async () => {
    setUp('durable-revert', ['boot']);
    const run = engine.start('provision', { name: 'web' }, { id: 'durable-revert' });
    const error = await run.result.catch((e: unknown) => e);
    expect(acked.status).toBe('REVERTED');
    expect(error).toBeInstanceOf(FlowFailedError);

    const reverts = checks.filter((c) => c.effect.kind === 'revert');
    const order = reverts.map((c) => c.effect.task);
    // Reverse dependency order: format and tag (in either order) only after attach, reserve after both.
    expect([...order.slice(0, 2), order.slice(2, 4).sort(), order[4]]).toEqual([
      'boot',
      'attach',
      ['format', 'tag'],
      'reserve',
    ]);
    for (const check of checks) {
      const wanted = check.effect.kind === 'execute' ? 'RUNNING' : 'REVERTING';
      expect(check, `${check.effect.kind} ${check.effect.task}`).toMatchObject({
        ackedState: wanted,
        redisState: wanted,
      });
    }
  });
});

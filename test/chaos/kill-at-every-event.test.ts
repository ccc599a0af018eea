import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type RunEvent, redisStore, type Store } from '../../src/index.js';
import { type Child, startChild } from '../support/child.js';
import { countOf, PROVISION_RESULTS, provisionFlow, redisEffects } from '../support/flows.js';
import { cleanPrefix, newRedis, testPrefix } from '../support/redis.js';

/**
 * SIGKILL the process running a `provision` run right after its k-th task change (seen through the
 * inspection API as the run actor makes it, for every k; the child
 * freezes there, so each kill lands where it is meant to): the event
 * fires as the machine changes, before the change is stored, so each kill lands somewhere between a
 * transition, its write and the effects it allows. Then another engine resumes the run. Whatever the
 * moment, the run must finish with the right results, and what the store showed at the kill bounds
 * what ran: a task stored PENDING never ran in the killed process (invariant 1), a task stored SUCCESS
 * is never run again, a task stored RUNNING runs again at most once, with the same idempotency key.
 */
const TASKS = ['reserve', 'format', 'tag', 'attach', 'boot'];
const EVENTS = 10; // 5 tasks × (RUNNING, SUCCESS)

/** The state of the last event of `task` (of the run's status when undefined) in a history. */
function lastState(history: readonly RunEvent[], task: string | undefined): string | undefined {
  return history.filter((e) => e.task === task).at(-1)?.state;
}

describe('SIGKILL after each task event, then resume', () => {
  let redis: Redis;
  let prefix: string;
  let store: Store;
  /** Reads history as any process would: an engine that knows no flow. */
  let reader: ReturnType<typeof createEngine>;
  const children: Child[] = [];
  /** Tasks stored SUCCESS when the child was killed after event k. */
  const succeededAtKill = new Map<number, number>();

  beforeAll(() => {
    redis = newRedis();
    prefix = testPrefix('killk');
    store = redisStore({ redis, prefix });
    reader = createEngine({ store });
  });

  afterAll(async () => {
    for (const child of children) await child.kill();
    await reader.close();
    await store.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  it.each(Array.from({ length: EVENTS }, (_, i) => i + 1))('killed after event %i', async (k) => {
    const runId = `kill-after-${k}`;
    // The child freezes right after event k, so the kill lands there and not wherever it has got to.
    const child = startChild(prefix, runId, 'events', String(k));
    children.push(child);
    let seen = 0;
    await child.waitForLine((line) => line.startsWith('TASK') && ++seen === k);
    await child.kill();

    const loaded = await store.load(runId);
    if (!loaded) {
      // Killed after the first transition, before the write that creates the run: nothing is stored
      // and nothing ran (invariant 1), so there is nothing to resume.
      expect(k).toBe(1);
      const ran = (await redisEffects(redis, prefix).all()).filter((e) => e.key.startsWith(`${runId}:`));
      expect(ran).toEqual([]);
      succeededAtKill.set(k, 0);
      return;
    }
    const atKill = loaded;
    // Frozen mid-run: its last write (the run's end) was never sent.
    expect(atKill.meta.status).toBe('RUNNING');
    const storedState = (task: string) =>
      (JSON.parse(atKill.parts[`t:${task}`] ?? '{"s":"PENDING"}') as { s: string }).s;
    succeededAtKill.set(k, TASKS.filter((t) => storedState(t) === 'SUCCESS').length);
    // The history shows exactly what was stored: each task's last event is its stored state, the
    // run's last status event its stored status, numbered from 1 with no gap.
    const historyAtKill = await reader.history(runId);
    expect(historyAtKill.map((e) => e.seq)).toEqual(historyAtKill.map((_, i) => i + 1));
    for (const task of TASKS) {
      expect(lastState(historyAtKill, task) ?? 'PENDING', `${task}'s history at the kill`).toBe(
        storedState(task),
      );
    }
    expect(lastState(historyAtKill, undefined)).toBe('RUNNING');
    const log = redisEffects(redis, prefix);
    const ran = (await log.all()).filter((e) => e.key.startsWith(`${runId}:`));
    const childRuns = countOf(ran);

    const engine = createEngine({
      store,
      flows: [provisionFlow(log, { label: 'resumer' })],
      closeStore: false,
    });
    try {
      const run = await engine.resume(runId);
      expect(await run.result).toEqual(PROVISION_RESULTS);
    } finally {
      await engine.close();
    }
    expect((await store.load(runId))?.meta.status).toBe('SUCCESS');
    // The resumed run's history goes on from the stored one: no gap, nothing rewritten, SUCCESS last.
    const history = await reader.history(runId);
    expect(history.slice(0, historyAtKill.length)).toEqual(historyAtKill);
    expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history.at(-1)).toMatchObject({ state: 'SUCCESS' });
    expect(history.at(-1)?.task).toBeUndefined();
    for (const task of TASKS) expect(lastState(history, task)).toBe('SUCCESS');

    const effects = (await log.all()).filter((e) => e.key.startsWith(`${runId}:`));
    const total = countOf(effects);
    for (const task of TASKS) {
      const state = storedState(task);
      const context = `${task} stored ${state} at the kill; child ran it ${childRuns[task] ?? 0}×, in all ${total[task] ?? 0}×`;
      if (state === 'PENDING') expect(childRuns[task] ?? 0, context).toBe(0);
      if (state === 'SUCCESS') expect(total[task], context).toBe(1);
      if (state === 'RUNNING') expect(total[task] ?? 0, context).toBeLessThanOrEqual(2);
      expect(total[task] ?? 0, context).toBeGreaterThanOrEqual(1);
      expect(new Set(effects.filter((e) => e.task === task).map((e) => e.key)), context).toEqual(
        new Set([`${runId}:${task}`]),
      );
    }
    expect(countOf(effects, 'revert')).toEqual({});
  });

  it('each kill landed right after its event, before the write it caused', () => {
    // Event k's own write never landed. Steps (events written together): reserve starts (1); reserve
    // ends, format and tag start (2-4); the first of them ends (5); the other ends, attach starts (6, 7);
    // attach ends, boot starts (8, 9); boot ends (10).
    expect([...succeededAtKill.entries()].sort(([a], [b]) => a - b).map(([, n]) => n)).toEqual([
      0, 0, 0, 0, 1, 2, 2, 3, 3, 4,
    ]);
  });
});

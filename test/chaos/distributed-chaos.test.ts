import type { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEngine, redisStore } from '../../src/index.js';
import { CHAOS_WIRING, chaosFlow, type Execution } from '../support/chaos-flow.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { cleanClusterPrefix, startRedisCluster } from '../support/redis-cluster.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const RUNS = Number(process.env.CHAOS_RUNS ?? 100);
const WORKERS = 4;
const KILL_EVERY_MS = 1_500;
const SPREAD_MS = 9_000;

/** Where the chaos runs: its client, the worker processes' target, how its keys are removed. */
interface Target {
  label: string;
  redis: Redis | Cluster;
  /** A Redis URL, or `cluster:<ports>` (worker-child.ts). */
  workers: string;
  clean(prefix: string): Promise<void>;
}

/**
 * Distributed execution under SIGKILL: RUNS runs of a 10-task flow over WORKERS worker processes, one
 * of them SIGKILLed every ~1.5 s and replaced. Every run must complete; every task key must have its
 * effect exactly once; a task executed twice only when a killed worker had it first; no task may start
 * after its run finished. On one Redis, and on a test-owned 3-master Cluster, where a kill also lands
 * between a step's run write and its relay (the outbox entry a surviving worker relays).
 */
describe('distributed execution under SIGKILL', () => {
  it(`completes ${RUNS} runs of a 10-task flow while a worker is killed every ~1.5 s`, async () => {
    const redis = newRedis();
    await chaos({ label: 'one Redis', redis, workers: REDIS_URL, clean: (p) => cleanPrefix(redis, p) });
  }, 90_000);

  it(`on a Redis Cluster: completes ${RUNS} runs while a worker is killed every ~1.5 s`, async () => {
    const cluster = await startRedisCluster();
    const redis = cluster.connect();
    try {
      await chaos({
        label: 'a 3-master Cluster',
        redis,
        workers: `cluster:${cluster.nodes.map((n) => n.port).join(',')}`,
        clean: (p) => cleanClusterPrefix(redis, p),
      });
    } finally {
      await cluster.stop();
    }
  }, 90_000);
});

async function chaos(target: Target): Promise<void> {
  const prefix = testPrefix('dchaos');
  const { redis } = target;
  const store = redisStore({
    redis: target.workers.startsWith('cluster:') ? redis : target.workers,
    prefix,
  });
  const engine = createEngine({
    store,
    flows: [chaosFlow(redis, prefix, 'engine')],
    execution: 'distributed',
  });
  const options = { visibilityTimeoutMs: 1_000, concurrency: 8, pollMs: 50 };
  let serial = 0;
  const spawnWorker = () =>
    startWorkerProcess(prefix, `w${serial++}`, {}, options, undefined, target.workers);
  const workers: WorkerProcess[] = Array.from({ length: WORKERS }, spawnWorker);
  const everyWorker = [...workers];
  const killed = new Set<string>();
  try {
    await Promise.all(workers.map((w) => w.waitForLine((l) => l === 'READY')));
    const began = Date.now();
    const chaos = setInterval(() => {
      const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0]!;
      killed.add(victim.label);
      void victim.kill();
      const replacement = spawnWorker();
      workers.push(replacement);
      everyWorker.push(replacement);
    }, KILL_EVERY_MS);
    // Runs start over ~9 s, so kills land while tasks of many runs are in flight however fast they go.
    const runs: ReturnType<typeof engine.start<Record<string, unknown>>>[] = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(engine.start('chaos10', { n: i }, { id: `c${i}` }));
      await new Promise((resolve) => setTimeout(resolve, SPREAD_MS / RUNS));
    }
    const all = Promise.all(runs.map((r) => r.result));
    let results: Record<string, unknown>[];
    try {
      results = await all;
    } finally {
      clearInterval(chaos);
    }
    const elapsed = Date.now() - began;
    expect(results).toHaveLength(RUNS);
    expect(killed.size).toBeGreaterThanOrEqual(5);
    for (const r of results) expect(Object.keys(r)).toHaveLength(Object.keys(CHAOS_WIRING).length);

    const executions = (await redis.lrange(`${prefix}:exec`, 0, -1)).map((l) => JSON.parse(l) as Execution);
    const effects = await redis.hlen(`${prefix}:fx`);
    const byKey = new Map<string, Execution[]>();
    for (const e of executions) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e]);
    // Every task of every run has its effect, once per key.
    expect(byKey.size).toBe(RUNS * 10);
    expect(effects).toBe(RUNS * 10);
    // A key executed more than once: every execution but the last was on a worker that was killed.
    const again = [...byKey.values()].filter((list) => list.length > 1);
    for (const list of again) {
      for (const e of list.slice(0, -1)) expect(killed, JSON.stringify(list)).toContain(e.label);
    }
    // Steps a killed worker wrote but did not relay (Cluster only), relayed by the others.
    const relayed = everyWorker
      .flatMap((w) => w.lines)
      .filter((l) => l.startsWith('RELAYED '))
      .reduce((sum, l) => sum + Number(l.slice('RELAYED '.length)), 0);
    // No task started after its run finished.
    for (let i = 0; i < RUNS; i++) {
      const history = await engine.history(`c${i}`);
      const end = history.at(-1)!;
      expect(end.state).toBe('SUCCESS');
      for (const e of executions.filter((x) => x.run === `c${i}`)) expect(e.at).toBeLessThanOrEqual(end.at);
    }
    console.log(
      `distributed chaos on ${target.label}: ${RUNS} runs × 10 tasks over ${WORKERS} worker processes in ${elapsed} ms, ` +
        `${killed.size} workers SIGKILLed, ${executions.length - RUNS * 10} re-executions ` +
        `(${again.length} keys), every run SUCCESS, ${effects} effects for ${RUNS * 10} keys` +
        (relayed > 0 ? `, ${relayed} steps relayed from the outbox of a killed worker` : ''),
    );
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await engine.close();
    await target.clean(prefix);
    await redis.quit();
  }
}

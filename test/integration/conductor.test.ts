import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Flow, redisStore, type Store } from '../../src/index.js';
import { type Conductor, type ConductorOptions, createConductor } from '../../src/jobs/conductor.js';
import type { ConductorEvents } from '../../src/jobs/conductor-events.js';
import type { JobBoard } from '../../src/jobs/job-board.js';
import { redisJobBoard } from '../../src/jobs/redis-job-board.js';
import { stepsFlow } from '../support/conductor-flow.js';
import { countOf, deferred, memoryEffects, redisEffects, untilAborted, waitFor } from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Conductors (API.md "Jobs and conductors (HA)"): each test's conductors are separate "processes" —
 * each with its own engine, store and board connections — sharing one board and run store in Redis.
 */
interface Node {
  conductor: Conductor;
  engine: Engine;
  store: Store;
  board: JobBoard;
  events: { name: keyof ConductorEvents; id?: string; detail: unknown }[];
}

const ALL_EVENTS: (keyof ConductorEvents)[] = [
  'claimed',
  'takeover',
  'renewed',
  'lost',
  'completed',
  'failed',
  'released',
  'cancelled',
  'backoff',
];

function openNode(url: string, prefix: string, flow: Flow, options: Partial<ConductorOptions> = {}): Node {
  const store = redisStore({ redis: url, prefix });
  const engine = createEngine({ store, flows: [flow] });
  const board = redisJobBoard({ redis: url, prefix });
  const conductor = createConductor({ board, engine, leaseMs: 1_000, ...options });
  const events: Node['events'] = [];
  for (const name of ALL_EVENTS) {
    conductor.on(name, (detail: any) => events.push({ name, id: detail?.id, detail }));
  }
  return { conductor, engine, store, board, events };
}

async function closeNode(node: Node): Promise<void> {
  await node.conductor.stop();
  await node.engine.close();
  await node.store.close();
  await node.board.close();
}

const idsOf = (node: Node, name: keyof ConductorEvents) =>
  node.events.filter((e) => e.name === name).map((e) => e.id);

describe('conductors on a shared Redis board', () => {
  let redis: Redis;
  let prefix: string;
  let nodes: Node[];
  let board: JobBoard;

  beforeEach(() => {
    redis = newRedis();
    prefix = testPrefix('conductor');
    nodes = [];
    board = redisJobBoard({ redis: REDIS_URL, prefix });
  });

  afterEach(async () => {
    await Promise.all(nodes.map(closeNode));
    await board.close();
    await cleanPrefix(redis, prefix);
    await redis.quit();
  });

  const open = (flow: Flow, options: Partial<ConductorOptions> = {}) => {
    const node = openNode(REDIS_URL, prefix, flow, options);
    nodes.push(node);
    return node;
  };

  it('two conductors complete every one of N posted jobs exactly once', async () => {
    const log = redisEffects(redis, prefix);
    // Leases long enough that a heartbeat delayed by a loaded CI machine cannot look like a dead
    // conductor: this test is about sharing work, takeovers have their own tests.
    const a = open(stepsFlow(log, { label: 'a', stepMs: 5 }), { concurrency: 3, leaseMs: 5_000 });
    const b = open(stepsFlow(log, { label: 'b', stepMs: 5 }), { concurrency: 3, leaseMs: 5_000 });
    const ids = Array.from({ length: 24 }, (_, i) => `job-${i}`);
    await a.conductor.start();
    await b.conductor.start();
    for (const id of ids) await board.post({ flow: 'steps', id, inputs: { seed: id } });

    const jobs = await Promise.all(ids.map((id) => board.wait(id, { timeoutMs: 20_000 })));
    for (const job of jobs) {
      expect(job).toMatchObject({
        state: 'COMPLETE',
        attempts: 0,
        takeovers: 0,
        results: { out: `${job.id}....` },
      });
    }
    // The board shows COMPLETE as soon as a conductor's complete() lands; its event follows.
    const total = () => idsOf(a, 'completed').length + idsOf(b, 'completed').length;
    await waitFor(() => total() >= ids.length, 5_000, 'every completed event');
    const completed = [...idsOf(a, 'completed'), ...idsOf(b, 'completed')].sort();
    expect(completed).toEqual([...ids].sort());
    expect(idsOf(a, 'completed').length).toBeGreaterThan(0);
    expect(idsOf(b, 'completed').length).toBeGreaterThan(0);
    // Nothing re-ran: each task of each job executed once.
    const effects = await log.all();
    expect(effects.length).toBe(24 * 4);
    expect(new Set(effects.map((e) => e.key)).size).toBe(24 * 4);
    expect(await board.counts()).toMatchObject({ COMPLETE: 24, CLAIMED: 0, UNCLAIMED: 0 });
    expect(a.conductor.stats()).toMatchObject({
      completed: idsOf(a, 'completed').length,
      lost: 0,
      failed: 0,
    });
  });

  it('a conductor stopped without drain releases its job; another resumes it from the snapshot', async () => {
    const log = redisEffects(redis, prefix);
    const hanging = deferred();
    const a = open(
      stepsFlow(log, {
        label: 'a',
        stepMs: 0,
        gate: async (task, ctx) => {
          if (task !== 's2') return;
          hanging.resolve();
          await untilAborted(ctx.signal);
        },
      }),
    );
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'handover', inputs: { seed: 'x' } });
    await hanging.promise;
    await a.conductor.stop(); // no drain: abort the run (stored), release the claim
    expect(idsOf(a, 'released')).toEqual(['handover']);
    expect((await board.get('handover'))?.state).toBe('UNCLAIMED');

    const b = open(stepsFlow(log, { label: 'b', stepMs: 0 }));
    await b.conductor.start();
    const job = await board.wait('handover', { timeoutMs: 10_000 });
    expect(job).toMatchObject({
      state: 'COMPLETE',
      results: { out: 'x....' },
      attempts: 0,
      owner: b.conductor.id,
    });
    const effects = await log.all();
    // s0 and s1 finished under a and were not re-run; s2 was running and ran again, same key.
    expect(countOf(effects)).toEqual({ s0: 1, s1: 1, s2: 2, s3: 1 });
    expect(effects.filter((e) => e.label === 'b').map((e) => e.task)).toEqual(['s2', 's3']);
    expect(new Set(effects.filter((e) => e.task === 's2').map((e) => e.key))).toEqual(
      new Set(['handover:s2']),
    );
    await waitFor(() => idsOf(b, 'completed').length > 0, 5_000, 'the completed event');
    expect(idsOf(b, 'completed')).toEqual(['handover']);
  });

  it('a conductor whose heartbeat comes too late stops the run itself, then picks the job up again', async () => {
    const log = redisEffects(redis, prefix);
    const hanging = deferred();
    let held = true;
    const a = open(
      stepsFlow(log, {
        stepMs: 0,
        gate: async (task, ctx) => {
          if (task !== 's1' || !held) return;
          held = false;
          hanging.resolve();
          await untilAborted(ctx.signal);
        },
      }),
      { leaseMs: 300 },
    );
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'starved', inputs: { seed: 'y' } });
    await hanging.promise;
    // Starve the event loop past the lease: the next heartbeat must notice and not renew.
    const until = performance.now() + 450;
    while (performance.now() < until) {
      /* busy */
    }
    const job = await board.wait('starved', { timeoutMs: 10_000 });
    expect(job).toMatchObject({ state: 'COMPLETE', results: { out: 'y....' }, attempts: 0 });
    const lost = a.events.find((e) => e.name === 'lost');
    expect(lost?.detail).toMatchObject({ id: 'starved', reason: 'overdue' });
    expect((lost?.detail as { error?: Error } | undefined)?.error?.name).toBe('LeaseOverdueError');
    await waitFor(() => idsOf(a, 'completed').length > 0, 5_000, 'the completed event');
    expect(idsOf(a, 'completed')).toEqual(['starved']);
    expect(countOf(await log.all())).toEqual({ s0: 1, s1: 2, s2: 1, s3: 1 });
  });

  it('a job whose runs keep failing is FAILED with the reason after maxAttempts', async () => {
    const log = redisEffects(redis, prefix);
    const a = open(stepsFlow(log, { stepMs: 0, fail: ['s2'] }), { maxAttempts: 3 });
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'doomed', inputs: { seed: 'z' } });
    const job = await board.wait('doomed', { timeoutMs: 10_000 });
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toBe(3);
    expect(job.error).toMatchObject({ name: 'FlowFailedError' });
    expect(job.error?.message).toContain('s2 broke');
    expect(
      a.events.filter((e) => e.name === 'failed').map((e) => (e.detail as { state: string }).state),
    ).toEqual(['UNCLAIMED', 'UNCLAIMED', 'FAILED']);
    // Each attempt ran from scratch (the reverted run was replaced), and reverted what it ran.
    const effects = await log.all();
    expect(countOf(effects)).toEqual({ s0: 3, s1: 3, s2: 3 });
    expect(countOf(effects, 'revert')).toEqual({ s0: 3, s1: 3, s2: 3 });
  });

  it('an unknown flow fails the job at once, without retries', async () => {
    const a = open(stepsFlow(memoryEffects()));
    await a.conductor.start();
    await board.post({ flow: 'no-such-flow', id: 'stranger' });
    const job = await board.wait('stranger', { timeoutMs: 10_000 });
    expect(job).toMatchObject({ state: 'FAILED', attempts: 1, error: { name: 'UnknownFlowError' } });
  });

  it('cancelling a running job reverts its run and leaves the job CANCELLED', async () => {
    const log = redisEffects(redis, prefix);
    const hanging = deferred();
    const a = open(
      stepsFlow(log, {
        stepMs: 0,
        gate: async (task, ctx) => {
          if (task !== 's2') return;
          hanging.resolve();
          await untilAborted(ctx.signal);
        },
      }),
      { leaseMs: 600 },
    );
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'unwanted', inputs: { seed: 'c' } });
    await hanging.promise;
    expect(await board.cancel('unwanted')).toBe(true);
    await waitFor(() => idsOf(a, 'cancelled').length > 0, 5_000, 'the conductor to see the cancel');
    const stored = await a.store.load('unwanted');
    expect(stored?.meta.status).toBe('REVERTED');
    const effects = await log.all();
    expect(countOf(effects, 'revert')).toMatchObject({ s0: 1, s1: 1 });
    expect((await board.get('unwanted'))?.state).toBe('CANCELLED');
    expect(a.conductor.stats()).toMatchObject({ cancelled: 1, completed: 0, failed: 0, running: 0 });
  });

  /** A node whose board counts its calls, with a gate in front of completeAndClaim. */
  const openCounting = (flow: Flow, options: Partial<ConductorOptions> = {}) => {
    const calls = { claim: 0, completeAndClaim: 0, complete: 0 };
    let gate: Promise<void> = Promise.resolve();
    const entered = deferred();
    const node = openNode(REDIS_URL, prefix, flow, options);
    const real = node.board;
    node.board = new Proxy(real, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (key === 'claim' || key === 'complete') {
          return (...args: unknown[]) => {
            calls[key] += 1;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        if (key === 'completeAndClaim') {
          return async (...args: unknown[]) => {
            calls.completeAndClaim += 1;
            entered.resolve();
            await gate;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value;
      },
    });
    node.conductor = createConductor({ board: node.board, engine: node.engine, leaseMs: 1_000, ...options });
    for (const name of ALL_EVENTS) {
      node.conductor.on(name, (detail: any) => node.events.push({ name, id: detail?.id, detail }));
    }
    nodes.push(node);
    return {
      node,
      calls,
      entered: entered.promise,
      hold(until: Promise<void>) {
        gate = until;
      },
    };
  };

  it('a conductor with a full slot takes its next job in the completion’s round trip, not with a claim of its own', async () => {
    const log = redisEffects(redis, prefix);
    const { node, calls } = openCounting(stepsFlow(log, { stepMs: 1 }), { concurrency: 1 });
    const ids = Array.from({ length: 5 }, (_, i) => `next-${i}`);
    for (const id of ids) await board.post({ flow: 'steps', id, inputs: { seed: id } });
    await node.conductor.start();
    const jobs = await Promise.all(ids.map((id) => board.wait(id, { timeoutMs: 10_000 })));
    expect(jobs.map((j) => j.state)).toEqual(ids.map(() => 'COMPLETE'));
    expect(calls.completeAndClaim).toBe(5);
    expect(calls.complete).toBe(0);
    // The first job is claimed by the loop; the other four come with the completions before them.
    // After the last completion found nothing, the loop claims once more and then waits for work.
    await waitFor(() => calls.claim >= 2, 5_000, 'the loop to look for work again');
    expect(calls.claim).toBe(2);
    expect((await log.all()).length).toBe(5 * 4);
    expect(await board.counts()).toMatchObject({ COMPLETE: 5, CLAIMED: 0, UNCLAIMED: 0 });
  });

  it('a job claimed with a completion while the conductor stops is given back before stop() returns', async () => {
    const log = redisEffects(redis, prefix);
    const { node, entered, hold } = openCounting(stepsFlow(log, { stepMs: 1 }), { concurrency: 1 });
    const gate = deferred();
    hold(gate.promise);
    await board.post({ flow: 'steps', id: 'first', inputs: { seed: 'f' } });
    await board.post({ flow: 'steps', id: 'second', inputs: { seed: 's' } });
    await node.conductor.start();
    await entered; // 'first' ran; its completion (which also claims) waits at the gate
    const stopped = node.conductor.stop({ drain: true });
    gate.resolve();
    await stopped;
    expect(await board.get('first')).toMatchObject({ state: 'COMPLETE' });
    // Claimed once (token 1) with the completion, then released untouched: its run never started.
    expect(await board.get('second')).toMatchObject({ state: 'UNCLAIMED', token: 1, attempts: 0 });
    expect(await node.store.load('second')).toBeUndefined();
    expect(idsOf(node, 'claimed')).toEqual(['first']);
    expect(node.conductor.stats()).toMatchObject({ running: 0, completed: 1 });
  });

  it('stop({ drain: true }) lets running jobs finish and completes them', async () => {
    const log = redisEffects(redis, prefix);
    const a = open(stepsFlow(log, { stepMs: 30 }), { concurrency: 2 });
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'd1', inputs: { seed: 'd' } });
    await board.post({ flow: 'steps', id: 'd2', inputs: { seed: 'd' } });
    await waitFor(() => a.conductor.stats().running === 2, 5_000, 'both jobs to be claimed');
    await board.post({ flow: 'steps', id: 'd3', inputs: { seed: 'd' } });
    await a.conductor.stop({ drain: true });
    expect(idsOf(a, 'completed').sort()).toEqual(['d1', 'd2']);
    expect((await board.get('d3'))?.state).toBe('UNCLAIMED');
  });
  it('stop({ drain: true, timeoutMs }) suspends a job still running at the timeout: stored SUSPENDED, released, resumed elsewhere', async () => {
    const log = redisEffects(redis, prefix);
    const hanging = deferred();
    const letGo = deferred();
    const a = open(
      stepsFlow(log, {
        label: 'a',
        stepMs: 0,
        gate: async (task) => {
          if (task !== 's1') return;
          hanging.resolve();
          await letGo.promise; // a suspend lets a running task finish: it is not aborted
        },
      }),
    );
    await a.conductor.start();
    await board.post({ flow: 'steps', id: 'slow', inputs: { seed: 'z' } });
    await hanging.promise;
    const stopping = a.conductor.stop({ drain: true, timeoutMs: 50 });
    // The suspend is stored before the running task finishes.
    await waitFor(
      async () => JSON.parse((await a.store.load('slow'))?.parts.core ?? '{}').context?.suspended === true,
      5_000,
      'the suspend to be stored',
    );
    letGo.resolve();
    await stopping;
    expect((await a.store.load('slow'))?.meta.status).toBe('SUSPENDED');
    expect(idsOf(a, 'released')).toEqual(['slow']);
    expect((await board.get('slow'))?.state).toBe('UNCLAIMED');

    const b = open(stepsFlow(log, { label: 'b', stepMs: 0 }));
    await b.conductor.start();
    expect(await board.wait('slow', { timeoutMs: 10_000 })).toMatchObject({
      state: 'COMPLETE',
      results: { out: 'z....' },
    });
    // s1 finished under a before the run stopped: nothing ran twice.
    expect(countOf(await log.all())).toEqual({ s0: 1, s1: 1, s2: 1, s3: 1 });
  });
});

describe('a conductor whose Redis goes away mid-run', () => {
  let server: OwnedRedis | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('recovers without losing or duplicating jobs (redis-server killed, restarted with AOF)', async () => {
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
    const prefix = testPrefix('conductor-outage');
    const log = memoryEffects(); // Redis is the thing that goes away
    const node = openNode(server.url, prefix, stepsFlow(log, { stepMs: 60 }), {
      concurrency: 4,
      leaseMs: 800,
    });
    const poster = redisJobBoard({ redis: server.url, prefix });
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `o-${i}`);
      for (const id of ids) await poster.post({ flow: 'steps', id, inputs: { seed: id } });
      await node.conductor.start();
      await waitFor(() => idsOf(node, 'completed').length >= 2, 10_000, 'two jobs to complete');
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than the lease
      await server.start();

      const jobs = await Promise.all(ids.map((id) => poster.wait(id, { timeoutMs: 20_000 })));
      for (const job of jobs) {
        expect(job).toMatchObject({ state: 'COMPLETE', attempts: 0, results: { out: `${job.id}....` } });
      }
      // The board shows COMPLETE as soon as the conductor's complete() lands; its event follows.
      await waitFor(() => idsOf(node, 'completed').length >= ids.length, 5_000, 'every completed event');
      expect(idsOf(node, 'completed').sort()).toEqual([...ids].sort());
      // No task ran under two keys, and every task of every job ran.
      const effects = await log.all();
      expect(new Set(effects.map((e) => e.key)).size).toBe(12 * 4);
      expect(node.conductor.stats().lost).toBeGreaterThan(0); // in-flight runs were stopped, then resumed
    } finally {
      await closeNode(node);
      await poster.close();
    }
  });
});

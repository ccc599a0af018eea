import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/index.js';
import type { JobBoard } from '../../src/jobs/job-board.js';
import { redisJobBoard } from '../../src/jobs/redis-job-board.js';
import { bundleChild } from '../support/bundle-child.js';
import { CHAOS_TASKS, chaosKeys } from '../support/conductor-child.js';
import { testPrefix } from '../support/redis.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Chaos: four conductor processes share one board; every ~1.5 s one of them is SIGKILLed and
 * replaced, for ~30 s, while 300 ten-task jobs run. Every job must end COMPLETE, every task's effect
 * must be applied exactly once per idempotency key (re-executions allowed), no effect write may be
 * accepted from a fenced-out owner, and a killed conductor's jobs must be taken over within
 * leaseMs + 2 s of the kill. Loopback only, on a test-owned redis-server.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/conductor-child.ts', import.meta.url));

const JOBS = 300;
const CONDUCTORS = 4;
const LEASE_MS = 1_500;
const STEP_MS = 125;
const KILL_EVERY_MS = 1_500;
const CHAOS_MS = 30_000;

const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedisServer) {
  console.warn(
    'chaos/conductors: skipped — `redis-server` is not installed (needed for a test-owned Redis).',
  );
}

interface ChildEvent {
  t: number;
  ev: string;
  id?: string;
  token?: number;
  takeover?: boolean;
  reason?: string;
  error?: string;
  label: string;
}

interface ConductorChild {
  label: string;
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
}

describe.skipIf(!hasRedisServer)('conductors under SIGKILL', () => {
  let server: OwnedRedis;
  let redis: Redis;
  let board: JobBoard;
  const prefix = testPrefix('chaos-conductors');
  const children: ConductorChild[] = [];
  const events: ChildEvent[] = [];
  // Children run bundled, without tsx's loader: a replacement spawned right after a kill would
  // otherwise spend ~1 s of CPU starting up exactly while the takeover it competes with is timed.
  let childScript: string;

  beforeAll(async () => {
    childScript = await bundleChild(CHILD, 'conductor-child');
    server = await startRedis();
    redis = new Redis(server.url);
    board = redisJobBoard({ redis, prefix });
  });

  afterAll(async () => {
    for (const child of children) child.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await board?.close();
    redis?.disconnect();
    await server?.stop();
    if (childScript) rmSync(childScript, { force: true });
  });

  let serial = 0;
  const spawnConductor = (): ConductorChild => {
    const label = `c${++serial}`;
    const child = spawn(
      process.execPath,
      [childScript, server.url, prefix, label, String(LEASE_MS), String(STEP_MS)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const event = { ...(JSON.parse(line) as ChildEvent), label };
        events.push(event);
        if (event.ev === 'ready') resolve();
      });
      void exited.then(() => reject(new Error(`${label} exited before it was ready: ${stderr}`)));
    });
    ready.catch(() => {}); // a child killed while starting is fine
    const record = { label, process: child, ready, exited };
    children.push(record);
    return record;
  };

  it('completes every job once, applies every effect once, refuses fenced-out writes, takes over fast', async () => {
    const ids = Array.from({ length: JOBS }, (_, i) => `job-${String(i).padStart(3, '0')}`);
    for (const id of ids) await board.post({ flow: 'chaos', id, inputs: { seed: id } });
    const started = Date.now();
    let live = Array.from({ length: CONDUCTORS }, spawnConductor);
    await Promise.all(live.map((c) => c.ready));

    const kills: { t: number; label: string }[] = [];
    const pauses: { t: number; label: string }[] = [];
    const paused = new Set<ConductorChild>();
    let actions = 0;
    while (Date.now() - started < CHAOS_MS) {
      await new Promise((resolve) => setTimeout(resolve, KILL_EVERY_MS * (0.7 + Math.random() * 0.6)));
      const counts = await board.counts();
      if (counts.COMPLETE + counts.FAILED === JOBS) break;
      // One blow at a time: a kill while another conductor is frozen would measure two outages at once.
      if (paused.size > 0) continue;
      const awake = live.filter((c) => !paused.has(c));
      const victim = awake[Math.floor(Math.random() * awake.length)]!;
      if (++actions % 4 === 0) {
        // Every fourth blow freezes a conductor past its lease instead (SIGSTOP, then SIGCONT): when it
        // wakes it still believes it holds its jobs, so it must notice and stop, and its writes must be
        // refused (store, board and effects), while others have taken the jobs over.
        paused.add(victim);
        pauses.push({ t: Date.now(), label: victim.label });
        victim.process.kill('SIGSTOP');
        setTimeout(() => {
          victim.process.kill('SIGCONT');
          paused.delete(victim);
        }, LEASE_MS + 700);
        continue;
      }
      kills.push({ t: Date.now(), label: victim.label });
      victim.process.kill('SIGKILL');
      await victim.exited;
      live = [...live.filter((c) => c !== victim), spawnConductor()];
    }
    const chaosEnded = Date.now();

    const jobs = await Promise.all(ids.map((id) => board.wait(id, { timeoutMs: 60_000 })));
    const finished = Date.now();
    // A job is COMPLETE on the board a moment before its conductor's line reaches us (and a frozen
    // conductor speaks only once thawed): give the lines time to arrive. Killed ones never will.
    const reported = () => new Set(events.filter((e) => e.ev === 'completed').map((e) => e.id)).size === JOBS;
    for (let waited = 0; (paused.size > 0 || !reported()) && waited < 4_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // 1. Every job COMPLETE with the right results, no attempt counted.
    expect(
      jobs
        .filter((j) => j.state !== 'COMPLETE')
        .map((j) => `${j.id}: ${j.state} ${j.error?.name}: ${j.error?.message}`),
    ).toEqual([]);
    for (const job of jobs) expect(job.results?.out).toBe(`${job.id}${'.'.repeat(CHAOS_TASKS)}`);
    expect(jobs.every((j) => j.attempts === 0)).toBe(true);

    // 2. Completed exactly once from the board's point of view, by the holder of the current token.
    //    A conductor killed between its complete and printing it leaves no event: then the job's
    //    owner must be a killed conductor whose last claim of the job holds the job's token.
    const completed = events.filter((e) => e.ev === 'completed');
    expect(completed.length).toBe(new Set(completed.map((e) => e.id)).size);
    let completedSilently = 0;
    for (const job of jobs) {
      const done = completed.find((e) => e.id === job.id);
      if (done) {
        expect({ id: job.id, token: done.token, owner: done.label }).toEqual({
          id: job.id,
          token: job.token,
          owner: job.owner,
        });
        continue;
      }
      completedSilently += 1;
      const lastClaim = events.filter((e) => e.ev === 'claimed' && e.id === job.id).at(-1);
      // (or frozen by SIGSTOP when the jobs were checked: its event was still to come)
      const silenced = [...kills, ...pauses].some((k) => k.label === job.owner);
      const story = events
        .filter((e) => e.id === job.id)
        .map((e) => `${e.t} ${e.label} ${e.ev} ${e.token} ${e.reason ?? ''}`);
      expect({ silenced, owner: job.owner, story }).toMatchObject({ silenced: true });
      expect({ owner: lastClaim?.label, token: lastClaim?.token }).toEqual({
        owner: job.owner,
        token: job.token,
      });
    }

    // 3. Effects: one per idempotency key, ten per job; a double effect would show as more.
    const keys = chaosKeys(prefix);
    const effectKeys = await scanCount(redis, keys.effect('*'));
    const counters = await redis.hgetall(keys.counters);
    const perJob = await redis.hgetall(keys.appliedPerJob);
    const executions = Object.values(await redis.hgetall(keys.executions)).map(Number);
    expect(effectKeys).toBe(JOBS * CHAOS_TASKS);
    expect(Number(counters.applied)).toBe(JOBS * CHAOS_TASKS);
    expect(Object.keys(perJob).sort()).toEqual(ids);
    expect(Object.values(perJob).every((n) => Number(n) === CHAOS_TASKS)).toBe(true);
    expect(executions.length).toBe(JOBS * CHAOS_TASKS);

    // 4. Runs: all stored SUCCESS.
    const store = redisStore({ redis, prefix });
    const runs = await Promise.all(ids.map((id) => store.load(id)));
    expect(runs.every((run) => run?.meta.status === 'SUCCESS')).toBe(true);
    await store.close();

    // 5. Takeover latency: from each kill to the first claim, by another conductor, of each job the
    //    killed one still held (its events: claimed and not yet completed/released/lost).
    const latencies: number[] = [];
    let finishedByVictim = 0;
    for (const kill of kills) {
      for (const id of heldAt(events, kill.label, kill.t)) {
        const next = events.find(
          (e) => e.ev === 'claimed' && e.id === id && e.t >= kill.t && e.label !== kill.label,
        );
        if (next) latencies.push(next.t - kill.t);
        else {
          // Its complete landed before the kill but was not printed: the board names the victim.
          finishedByVictim += 1;
          expect(jobs.find((j) => j.id === id)?.owner, id).toBe(kill.label);
        }
      }
    }
    latencies.sort((a, b) => a - b);
    const takeovers = events.filter((e) => e.ev === 'claimed' && e.takeover).length;
    const lost = events.filter((e) => e.ev === 'lost');
    const report = {
      jobs: JOBS,
      tasksPerJob: CHAOS_TASKS,
      conductorsStarted: serial,
      kills: kills.length,
      pausesPastLease: pauses.length,
      takeoverClaims: takeovers,
      takeoverSamples: latencies.length,
      heldJobsFinishedBeforeKill: finishedByVictim,
      completedBySilentlyKilled: completedSilently,
      latencyMs: {
        min: latencies[0],
        p50: pct(latencies, 0.5),
        p95: pct(latencies, 0.95),
        max: latencies.at(-1),
      },
      leaseMs: LEASE_MS,
      executions: executions.reduce((a, b) => a + b, 0),
      effectsApplied: Number(counters.applied),
      idempotentRepeats: Number(counters.repeated ?? 0),
      fencedWritesRefused: Number(counters.fenced ?? 0),
      lostEvents: Object.fromEntries(
        ['refused', 'overdue', 'fenced', 'unreachable'].map((r) => [
          r,
          lost.filter((e) => e.reason === r).length,
        ]),
      ),
      chaosSeconds: (chaosEnded - started) / 1000,
      totalSeconds: (finished - started) / 1000,
    };
    console.log(`chaos/conductors ${JSON.stringify(report, null, 2)}`);

    expect(kills.length).toBeGreaterThanOrEqual(5);
    // A conductor frozen past its lease notices when it wakes, and gives up what it held.
    const frozen = new Set(pauses.map((p) => p.label));
    if (pauses.length > 0) expect(lost.filter((e) => frozen.has(e.label)).length).toBeGreaterThan(0);
    expect(latencies.length).toBeGreaterThan(0);
    // Takeover = the lease running out + some conductor having a free slot (a job holds one for
    // ~CHAOS_TASKS × STEP_MS) + scheduling. Quiet runs stay near leaseMs + 0.6 s (printed above);
    // the bound keeps a margin a loaded 2-core CI holds (one CI run measured leaseMs + 1,031 ms).
    expect(latencies.at(-1)!).toBeLessThanOrEqual(LEASE_MS + 2_000);
  }, 120_000);
});

/** Jobs `label` held at time `t`: claimed before t and not completed, failed, released or lost before t. */
function heldAt(events: readonly ChildEvent[], label: string, t: number): string[] {
  const held = new Map<string, number>();
  for (const e of events) {
    if (e.label !== label || e.t > t || !e.id) continue;
    if (e.ev === 'claimed') held.set(e.id, e.token ?? 0);
    else if (
      ['completed', 'failed', 'released', 'lost', 'cancelled'].includes(e.ev) &&
      held.get(e.id) === e.token
    ) {
      held.delete(e.id);
    }
  }
  return [...held.keys()];
}

function pct(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function scanCount(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += found.length;
  } while (cursor !== '0');
  return count;
}

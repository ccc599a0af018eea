/**
 * A conductor in its own process, for the chaos test (test/chaos/conductors.test.ts), which SIGKILLs it.
 *
 *   node --import tsx test/support/conductor-child.ts <redisUrl> <prefix> <label> <leaseMs> <stepMs>
 *
 * It runs `chaos` jobs: a linear flow of ten tasks whose effects go to Redis through a fenced,
 * idempotent write (CHAOS_EFFECT below), and prints every conductor event as one JSON line:
 * `{ "t": <epoch ms>, "ev": "claimed", "id": "...", "token": 3, ... }`, first `{ "ev": "ready" }`.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createEngine, type Flow, linear, redisStore, task } from '../../src/index.js';
import { createConductor } from '../../src/jobs/conductor.js';
import type { ConductorEvents } from '../../src/jobs/conductor-events.js';
import { redisJobBoard } from '../../src/jobs/redis-job-board.js';
import { jobKeys } from '../../src/jobs/redis-job-record.js';
import { pause } from './conductor-flow.js';

export const CHAOS_TASKS = 10;

/** Where the chaos test's effects live, under the test's prefix. */
export function chaosKeys(prefix: string) {
  return {
    /** String per idempotency key: the first writer (`<label>:<token>`). */
    effect: (key: string) => `${prefix}:fx:${key}`,
    /** Hash key → executions that reached the effect (re-executions included). */
    executions: `${prefix}:fx-executions`,
    /** Hash job id → effects applied for that job (must end at CHAOS_TASKS). */
    appliedPerJob: `${prefix}:fx-applied`,
    /** Hash: applied, repeated (idempotent no-op), fenced (refused: stale token). */
    counters: `${prefix}:fx-counters`,
  };
}

/**
 * The effect of one task execution, atomically: count the execution; refuse it if the writer's board
 * token is not the job's current claim (a fenced-out owner); else apply it once per idempotency key
 * (SET NX). An effect applied twice would show as a job with more than CHAOS_TASKS applied effects.
 *
 * KEYS: effect key, executions hash, job hash (board), counters hash, applied-per-job hash
 * ARGV: idempotency key, writer's token, writer label, job id
 */
export const CHAOS_EFFECT = `
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local job = redis.call('HMGET', KEYS[3], 'state', 'token')
if job[1] ~= 'CLAIMED' or tonumber(job[2]) ~= tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[4], 'fenced', 1)
  return 'FENCED'
end
if redis.call('SET', KEYS[1], ARGV[3] .. ':' .. ARGV[2], 'NX') then
  redis.call('HINCRBY', KEYS[4], 'applied', 1)
  redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
  return 'APPLIED'
end
redis.call('HINCRBY', KEYS[4], 'repeated', 1)
return 'REPEATED'
`;

/** The chaos flow: t0 → … → t9, each waiting `stepMs` then writing its effect; `out` = seed + 10 dots. */
export function chaosFlow(
  effect: (jobId: string, key: string, signal: AbortSignal) => Promise<void>,
  stepMs: number,
): Flow {
  const tasks = Array.from({ length: CHAOS_TASKS }, (_, i) => {
    const input = i === 0 ? 'seed' : `v${i - 1}`;
    return task({
      name: `t${i}`,
      requires: [input],
      provides: i === CHAOS_TASKS - 1 ? 'out' : `v${i}`,
      async execute(args: Record<string, any>, ctx) {
        await pause(stepMs, ctx.signal);
        await effect(ctx.flowId, ctx.idempotencyKey, ctx.signal);
        return `${args[input]}.`;
      },
    });
  });
  return linear('chaos', tasks, { version: '1' });
}

async function main(): Promise<void> {
  const [url, prefix, label, leaseMs, stepMs] = process.argv.slice(2);
  if (!url || !prefix || !label || !leaseMs || !stepMs) {
    process.stderr.write('usage: conductor-child.ts <redisUrl> <prefix> <label> <leaseMs> <stepMs>\n');
    process.exit(2);
  }
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const keys = chaosKeys(prefix);
  const board = redisJobBoard({ redis, prefix });
  const tokens = new Map<string, number>();
  const effect = async (jobId: string, key: string, signal: AbortSignal) => {
    const reply = await redis.eval(
      CHAOS_EFFECT,
      5,
      keys.effect(key),
      keys.executions,
      jobKeys(prefix).job(jobId),
      keys.counters,
      keys.appliedPerJob,
      key,
      String(tokens.get(jobId) ?? 0),
      label,
      jobId,
    );
    // A fenced-out owner must not go on: wait for the conductor to stop this run.
    if (reply === 'FENCED') await pause(60_000, signal);
  };
  const engine = createEngine({
    store: redisStore({ redis, prefix }),
    flows: [chaosFlow(effect, Number(stepMs))],
    id: label,
  });
  const conductor = createConductor({ board, engine, concurrency: 4, leaseMs: Number(leaseMs), id: label });
  const print = (ev: string, detail: Record<string, unknown>) => {
    const { error, results: _results, ...rest } = detail;
    const line = { t: Date.now(), ev, ...rest, ...(error instanceof Error ? { error: error.name } : {}) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  conductor.on('claimed', (e) => tokens.set(e.id, e.token));
  const names: (keyof ConductorEvents)[] = [
    'claimed',
    'lost',
    'completed',
    'failed',
    'released',
    'cancelled',
  ];
  for (const name of names) conductor.on(name, (e: any) => print(name, e));
  conductor.on('backoff', (e) => print('backoff', { during: e.during, error: e.error }));
  await conductor.start();
  print('ready', {});
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();

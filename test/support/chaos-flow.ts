import type { Cluster, Redis } from 'ioredis';
import { type Flow, graph, task } from '../../src/index.js';

/**
 * `chaos10`: ten tasks in a graph (a fan-out, joins, a chain), for the distributed chaos test. Every
 * execute logs its start (`<prefix>:exec`: run, task, key, worker label, time), then applies its
 * effect idempotently by its idempotency key (`HSETNX <prefix>:fx <key> <label>`), waits 20–80 ms and
 * returns its number. Input: `{ n }`.
 */
export const CHAOS_WIRING: Record<string, string[]> = {
  t0: ['n'],
  t1: ['v0'],
  t2: ['v0'],
  t3: ['v0'],
  t4: ['v1', 'v2'],
  t5: ['v3'],
  t6: ['v4', 'v5'],
  t7: ['v6'],
  t8: ['v6'],
  t9: ['v7', 'v8'],
};

export interface Execution {
  run: string;
  task: string;
  key: string;
  label: string;
  at: number;
}

export function chaosFlow(redis: Redis | Cluster, prefix: string, label: string): Flow {
  return graph(
    'chaos10',
    Object.entries(CHAOS_WIRING).map(([name, requires], i) =>
      task({
        name,
        requires,
        provides: `v${i}`,
        async execute(_args, ctx) {
          const started: Execution = {
            run: ctx.flowId,
            task: name,
            key: ctx.idempotencyKey,
            label,
            at: Date.now(),
          };
          await redis.rpush(`${prefix}:exec`, JSON.stringify(started));
          await redis.hsetnx(`${prefix}:fx`, ctx.idempotencyKey, label);
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 60)));
          return i;
        },
      }),
    ),
  );
}

import type { Redis } from 'ioredis';
import type { FakeCloud } from '../../examples/server-boot.js';

/**
 * examples/server-boot.ts's fake cloud with its state in Redis, so processes share it: each `create`
 * counts an execution (`<prefix>:exec` hash, field = kind) before anything else, is idempotent by key,
 * and adds `<kind> <id>` to the `<prefix>:live` set; `delete` removes it. `hang` makes every create of
 * that kind call `onHang` and never return (the process is killed there).
 */
export function redisCloud(
  redis: Redis,
  prefix: string,
  options: { hang?: string; onHang?: (kind: string) => void } = {},
): FakeCloud & { executions(): Promise<Record<string, number>>; liveNow(): Promise<string[]> } {
  const calls: string[] = [];
  const live = new Set<string>();
  return {
    calls,
    live,
    async create(kind, key) {
      await redis.hincrby(`${prefix}:exec`, kind, 1);
      if (options.hang === kind) {
        options.onHang?.(kind);
        await new Promise<never>(() => {});
      }
      const known = await redis.hget(`${prefix}:made`, key);
      if (known) return known;
      const n = await redis.hincrby(`${prefix}:counters`, kind, 1);
      const id = kind === 'ip' ? `10.0.0.${n}` : `${kind}-${n}`;
      await redis.hset(`${prefix}:made`, key, id);
      await redis.sadd(`${prefix}:live`, `${kind} ${id}`);
      calls.push(`create ${kind} ${id}`);
      return id;
    },
    async delete(kind, id) {
      await redis.srem(`${prefix}:live`, `${kind} ${id}`);
      calls.push(`delete ${kind} ${id}`);
    },
    async executions() {
      const counts = await redis.hgetall(`${prefix}:exec`);
      return Object.fromEntries(Object.entries(counts).map(([kind, n]) => [kind, Number(n)]));
    },
    async liveNow() {
      return (await redis.smembers(`${prefix}:live`)).sort();
    },
  };
}

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, linear, redisStore, task } from '../../src/index.js';
import { monitorRedis } from '../support/redis-monitor.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * History costs no round trip: the events of a write go in the write's own script (DESIGN.md "History
 * in the store"), and the flow catalog is written once per engine and flow, not per run. Counted with
 * MONITOR on a redis-server of the test's own, where every command a client sends shows up once and
 * commands run by scripts show up as `lua`.
 */

interface Seen {
  name: string;
  source: string;
  bytes: number;
}

describe('what history and the catalog cost in commands', () => {
  let server: OwnedRedis;
  let monitor: { stop(): void } | undefined;
  let seen: Seen[] = [];

  beforeAll(async () => {
    server = await startRedis();
    monitor = await monitorRedis(server.url, ({ args, source }) => {
      const bytes = args.reduce((sum, arg) => sum + arg.length, 0);
      seen.push({ name: String(args[0]).toLowerCase(), source, bytes });
    });
  });
  afterAll(async () => {
    monitor?.stop();
    await server?.stop();
  });

  /** Wait until MONITOR has reported a marker command sent after what we count. */
  const settle = async (client: Redis) => {
    await client.echo('count-mark');
    while (!seen.some((s) => s.name === 'echo')) await new Promise((resolve) => setTimeout(resolve, 5));
    const counted = seen.filter((s) => s.name !== 'echo');
    seen = [];
    return counted;
  };

  const chain = (n: number) =>
    linear(
      `chain${n}`,
      Array.from({ length: n }, (_, i) => task({ name: `t${i}`, execute: () => i })),
    );

  it('a run sends one script per write (one per task, plus its create) and nothing else', async () => {
    const client = new Redis(server.url);
    const store = redisStore({ redis: client, prefix: 'rt' });
    const engine = createEngine({ store });
    const flow = chain(4);
    await engine.run(flow, {}, { id: 'warm' });
    const first = await settle(client);
    // The engine's first run of a flow also puts the flow in the catalog: one SET, once.
    expect(first.filter((s) => s.source !== 'lua' && s.name === 'set')).toHaveLength(1);

    const runs = 5;
    for (let i = 0; i < runs; i++) await engine.run(flow, {}, { id: `r${i}` });
    const counted = await settle(client);
    const sent = counted.filter((s) => s.source !== 'lua').map((s) => s.name);
    expect(sent).toEqual(Array(runs * 5).fill('evalsha'));
    // The scripts appended every event (per run its RUNNING, each task RUNNING and SUCCESS, its
    // SUCCESS), each write's events as one stream entry: one XADD per write, not per event.
    expect(counted.filter((s) => s.source === 'lua' && s.name === 'xadd')).toHaveLength(runs * 5);
    expect((await engine.history('r0')).length).toBe(10);
    await engine.close();
    await store.close();
    await client.quit();
  });

  it("a write's size does not grow with the flow (history included)", async () => {
    const client = new Redis(server.url);
    const store = redisStore({ redis: client, prefix: 'size' });
    const engine = createEngine({ store });
    const middleWrite = async (n: number) => {
      await engine.run(chain(n), {}, { id: `size-${n}` });
      const writes = (await settle(client)).filter((s) => s.source !== 'lua' && s.name === 'evalsha');
      // The create carries every task's part; the saves after it carry what changed.
      // The median: a write that coalesced two steps (one was in flight) carries two tasks' parts.
      const sizes = writes
        .slice(1)
        .map((w) => w.bytes)
        .sort((a, b) => a - b);
      return sizes[Math.floor(sizes.length / 2)]!;
    };
    const small = await middleWrite(10);
    const large = await middleWrite(400);
    // The same parts and events; only task names (t5 vs t200) and the core's lane count differ a little.
    expect(Math.abs(large - small)).toBeLessThan(200);
    await engine.close();
    await store.close();
    await client.quit();
  });
});

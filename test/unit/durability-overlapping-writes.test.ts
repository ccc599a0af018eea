import { describe, expect, it } from 'vitest';
import { createEngine, type Engine, graph, linear, memoryStore, type Store, task } from '../../src/index.js';

/**
 * Invariant 1 (durable before effect) while writes overlap: a task that becomes ready while an earlier
 * write of its run is still in flight must wait for the *next* write, the one that records it RUNNING,
 * to be acknowledged. The durability test acknowledges every write after the same delay, which rarely
 * makes a task ready mid-write; a writer that released waiters against the newest write it was asked
 * for instead of the one acknowledged was caught about 1 run in 5 (issue 16, mutant 5: 80 of 160
 * executes started while the stored state still showed their task PENDING).
 *
 * Here acknowledgements are slow and staggered and tasks finish at staggered times, so many tasks
 * become ready mid-write; each execute reads, through an engine on a mirror of what the store has
 * acknowledged, its own state and its provider's.
 */

/**
 * A store whose acknowledgements lag behind the store by 2 to 14 ms, varying from write to write, and
 * a mirror store holding exactly what has been acknowledged (one run's writes are in flight one at a
 * time, so the mirror receives them in order).
 */
function staggeredAckStore(): { store: Store; acked: Store } {
  const inner = memoryStore();
  const acked = memoryStore();
  let writes = 0;
  const later = () => {
    writes += 1;
    return new Promise((resolve) => setTimeout(resolve, 2 + ((writes * 7) % 13)));
  };
  const store: Store = {
    ...inner,
    async create(meta, parts, options) {
      const created = await inner.create(meta, parts, options);
      await later();
      if (created) await acked.create(meta, parts);
      return created;
    },
    async save(write, options) {
      await inner.save(write, options);
      await later();
      await acked.save(write);
    },
  };
  return { store, acked };
}

interface Seen {
  task: string;
  /** The task's state in the acknowledged store when its execute began. */
  own: string | undefined;
  /** Its provider's state and result there (chains' first tasks have none). */
  provider?: { state: string | undefined; result: unknown; arg: unknown };
}

/** `chains` chains of three tasks, c<i>a → c<i>b → c<i>c, each task done after a staggered delay. */
function chainsFlow(
  chains: number,
  check: (task: string, ctx: { flowId: string }, args: any) => Promise<void>,
) {
  const step = (name: string, requires: string | undefined, provides: string, ms: number) =>
    task({
      name,
      ...(requires ? { requires } : {}),
      provides,
      async execute(args: Record<string, unknown>, ctx) {
        await check(name, ctx, args);
        await new Promise((resolve) => setTimeout(resolve, ms));
        return `${provides}!`;
      },
    });
  return graph(
    'overlapping-writes',
    Array.from({ length: chains }, (_, i) =>
      linear(`chain${i}`, [
        step(`c${i}a`, undefined, `v${i}a`, (i * 3) % 11),
        step(`c${i}b`, `v${i}a`, `v${i}b`, (i * 5) % 7),
        step(`c${i}c`, `v${i}b`, `v${i}c`, (i * 2) % 5),
      ]),
    ),
  );
}

describe('durable before effect while writes overlap', () => {
  it('starts every execute only once a write showing it RUNNING, with its input, is acknowledged', async () => {
    const chains = 16;
    const { store, acked } = staggeredAckStore();
    const observer: Engine = createEngine({ store: acked });
    const seen: Seen[] = [];
    const flow = chainsFlow(chains, async (name, ctx, args) => {
      // The acknowledged store is in memory: this read takes no timer turn, so no acknowledgement lands
      // between the execute's start and what it sees.
      const info = await observer.get(ctx.flowId);
      const entry: Seen = { task: name, own: info?.tasks[name]?.state };
      if (!name.endsWith('a')) {
        const provider = `${name.slice(0, -1)}${name.endsWith('b') ? 'a' : 'b'}`;
        const arg = Object.values(args)[0];
        entry.provider = {
          state: info?.tasks[provider]?.state,
          result: info?.tasks[provider]?.result,
          arg,
        };
      }
      seen.push(entry);
    });
    const engine = createEngine({ store, flows: [flow] });
    try {
      await engine.run(flow, {}, { id: 'overlap' });
    } finally {
      await engine.close();
      await observer.close();
    }
    expect(seen).toHaveLength(chains * 3);
    const early = seen.filter((s) => s.own !== 'RUNNING').map((s) => `${s.task} saw itself ${s.own}`);
    expect(early).toEqual([]);
    const missingInput = seen
      .filter((s) => s.provider && (s.provider.state !== 'SUCCESS' || s.provider.result !== s.provider.arg))
      .map((s) => `${s.task} saw its provider ${s.provider!.state}`);
    expect(missingInput).toEqual([]);
  });
});

import type { Flow } from '../src/index.js';
import { taskweave } from './taskweave.js';

const { graph, linear, parallel, task } = taskweave;

/** Flow shapes the benchmarks share: chains, fan-out/fan-in and a random DAG, of any size. */
const noop = (name: string, extra: { requires?: string[]; provides?: string } = {}) =>
  task({ name, ...extra, execute: () => name, revert: () => {} });

export function chain(n: number, name = `chain${n}`): Flow {
  return linear(
    name,
    Array.from({ length: n }, (_, i) => noop(`t${i}`)),
  );
}

/** One task, n-2 in parallel, one joining them. */
export function fan(n: number, name = `fan${n}`): Flow {
  return linear(name, [
    noop('start'),
    parallel(
      'middle',
      Array.from({ length: n - 2 }, (_, i) => noop(`m${i}`)),
    ),
    noop('join'),
  ]);
}

/**
 * The edges of a seeded random DAG: task i needs up to 2 earlier tasks (`deps[i]`, indexes). Shared by
 * `randomDag` and the XState floor (`bench/floor.ts`) so both run the same graph.
 */
export function randomDeps(n: number, seed = 42): number[][] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: n }, (_, i) =>
    i === 0 ? [] : [...new Set([Math.floor(random() * i), Math.floor(random() * i)])],
  );
}

/** A seeded random DAG wired by requires/provides: each task needs up to 2 earlier ones. */
export function randomDag(n: number, seed = 42, name = `rand${n}`): Flow {
  const tasks = randomDeps(n, seed).map((deps, i) =>
    noop(`r${i}`, { requires: deps.map((j) => `v${j}`), provides: `v${i}` }),
  );
  return graph(name, tasks);
}

import type { Cluster, Redis } from 'ioredis';
import {
  createEngine,
  type Flow,
  graph,
  linear,
  type Store,
  type TaskContext,
  task,
} from '../../src/index.js';

/**
 * Flows shared by the engine-on-Redis tests and the child process they kill (test/support/run-child.ts):
 * both sides must build the same structure, while each side plugs in its own task behaviour.
 *
 * Every execute and revert records itself in an `EffectLog` (in Redis, so a killed process's effects
 * stay visible to the test) before doing anything else; `Behaviour` makes a task fail, hang or wait.
 */
export type EffectKind = 'execute' | 'revert';

export interface Effect {
  kind: EffectKind;
  task: string;
  key: string;
  /** Which engine (or process) ran it. */
  label: string;
}

export interface EffectLog {
  record(effect: Effect): Promise<void>;
  /** Every effect recorded so far, in order. */
  all(): Promise<Effect[]>;
}

/** Effects as one Redis list under `prefix`, so every process of a test sees the same log. */
export function redisEffects(redis: Redis | Cluster, prefix: string): EffectLog {
  const key = `${prefix}:fx`;
  return {
    async record(effect) {
      await redis.rpush(key, JSON.stringify(effect));
    },
    async all() {
      return (await redis.lrange(key, 0, -1)).map((text) => JSON.parse(text) as Effect);
    },
  };
}

/** Effects in memory: for tests whose Redis goes away while tasks run. */
export function memoryEffects(): EffectLog {
  const list: Effect[] = [];
  return {
    async record(effect) {
      list.push(effect);
    },
    async all() {
      return [...list];
    },
  };
}

/** How many times each task ran `kind`. */
export function countOf(effects: readonly Effect[], kind: EffectKind = 'execute'): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of effects) if (e.kind === kind) counts[e.task] = (counts[e.task] ?? 0) + 1;
  return counts;
}

export interface Behaviour {
  /** Recorded with every effect. @default 'main' */
  label?: string;
  /** These tasks' execute throws. */
  fail?: readonly string[];
  /** These tasks' revert throws. */
  failRevert?: readonly string[];
  /** This task's execute (or revert) records itself, calls `onHang`, then waits until its signal aborts. */
  hangExecute?: string;
  hangRevert?: string;
  onHang?(task: string, kind: EffectKind, ctx: TaskContext): void;
  /** Awaited by every execute and revert after it is recorded (a test's gate or probe). */
  before?(
    task: string,
    kind: EffectKind,
    ctx: TaskContext,
    args: Record<string, unknown>,
  ): Promise<void> | void;
}

/** Resolves never; rejects with the signal's reason once it aborts. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function effectful<R>(
  log: EffectLog,
  behaviour: Behaviour,
  name: string,
  options: { requires?: string[]; provides?: string; result: (args: Record<string, any>) => R },
) {
  const label = behaviour.label ?? 'main';
  const step = async (kind: EffectKind, args: Record<string, unknown>, ctx: TaskContext) => {
    await log.record({ kind, task: name, key: ctx.idempotencyKey, label });
    await behaviour.before?.(name, kind, ctx, args);
    const hang = kind === 'execute' ? behaviour.hangExecute : behaviour.hangRevert;
    if (hang === name) {
      behaviour.onHang?.(name, kind, ctx);
      await untilAborted(ctx.signal);
    }
  };
  return task({
    name,
    ...(options.requires ? { requires: options.requires } : {}),
    ...(options.provides ? { provides: options.provides } : {}),
    async execute(args: Record<string, any>, ctx) {
      await step('execute', args, ctx);
      if (behaviour.fail?.includes(name)) throw new Error(`${name} broke`);
      return options.result(args);
    },
    async revert(args: Record<string, any>, ctx) {
      await step('revert', args, ctx);
      if (behaviour.failRevert?.includes(name)) throw new Error(`${name} would not revert`);
    },
  });
}

/**
 * `provision`: reserve → (format ∥ tag) → attach → boot. Inputs: `{ name }`.
 * Results: slot, disk, tags, mount, vm.
 */
export function provisionFlow(
  log: EffectLog,
  behaviour: Behaviour = {},
  options: { version?: string; extraTask?: boolean } = {},
): Flow {
  const t = <R>(name: string, o: Parameters<typeof effectful<R>>[3]) => effectful(log, behaviour, name, o);
  const tasks = [
    t('reserve', { requires: ['name'], provides: 'slot', result: ({ name }) => `slot-${name}` }),
    t('format', { requires: ['slot'], provides: 'disk', result: ({ slot }) => `disk-${slot}` }),
    t('tag', { requires: ['slot'], provides: 'tags', result: ({ slot }) => [slot, 'fresh'] }),
    t('attach', {
      requires: ['disk', 'tags'],
      provides: 'mount',
      result: ({ disk, tags }) => `${disk}@${tags.length}`,
    }),
    t('boot', {
      requires: ['mount'],
      provides: 'vm',
      result: ({ mount }) => ({ id: `vm-${mount}`, up: true }),
    }),
  ];
  if (options.extraTask) tasks.push(t('announce', { requires: ['vm'], result: () => 'ok' }));
  return graph('provision', tasks, { version: options.version ?? '1' });
}

/** `chain`: a linear flow of four tasks, a → b → c → d. Inputs: `{ seed }`. */
export function chainFlow(log: EffectLog, behaviour: Behaviour = {}): Flow {
  const t = <R>(name: string, o: Parameters<typeof effectful<R>>[3]) => effectful(log, behaviour, name, o);
  return linear('chain', [
    t('a', { requires: ['seed'], provides: 'ra', result: ({ seed }) => `${seed}a` }),
    t('b', { requires: ['ra'], provides: 'rb', result: ({ ra }) => `${ra}b` }),
    t('c', { requires: ['rb'], provides: 'rc', result: ({ rb }) => `${rb}c` }),
    t('d', { requires: ['rc'], provides: 'rd', result: ({ rc }) => `${rc}d` }),
  ]);
}

/** Disks of `wide`: more chains than the lanes shape takes, so it compiles to the spawned shape. */
export const WIDE_DISKS = 12;

/**
 * `wide`: reserve → disk0 … disk11 (in parallel) → attach → boot. Inputs: `{ name }`. Result `vm`:
 * `vm-<name>-<n>` where n counts the disks attach was given.
 */
export function wideFlow(log: EffectLog, behaviour: Behaviour = {}): Flow {
  const t = <R>(name: string, o: Parameters<typeof effectful<R>>[3]) => effectful(log, behaviour, name, o);
  const disks = Array.from({ length: WIDE_DISKS }, (_, i) => `disk${i}`);
  return graph('wide', [
    t('reserve', { requires: ['name'], provides: 'slot', result: ({ name }) => `slot-${name}` }),
    ...disks.map((d) =>
      t(d, { requires: ['slot'], provides: `v${d}`, result: ({ slot }) => `${d}-${slot}` }),
    ),
    t('attach', {
      requires: disks.map((d) => `v${d}`),
      provides: 'mount',
      result: (args) => Object.keys(args).length,
    }),
    t('boot', {
      requires: ['name', 'mount'],
      provides: 'vm',
      result: ({ name, mount }) => `vm-${name}-${mount}`,
    }),
  ]);
}

/** What `provision` gives for `{ name: 'web' }`. */
export const PROVISION_RESULTS = {
  slot: 'slot-web',
  disk: 'disk-slot-web',
  tags: ['slot-web', 'fresh'],
  mount: 'disk-slot-web@2',
  vm: { id: 'vm-disk-slot-web@2', up: true },
};

/** A promise with its resolve exposed. */
/** A promise with its resolve/reject exposed. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Poll `predicate` until it is truthy (for conditions only Redis can tell); rejects after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Leave a `provision` run stored mid-run, as an engine that died would: attach is RUNNING (reserve,
 * format and tag are SUCCESS) when the engine that started it closes.
 */
export async function parkProvision(
  store: Store,
  log: EffectLog,
  runId: string,
  version = '1',
): Promise<void> {
  const hanging = deferred();
  const flow = provisionFlow(
    log,
    { label: 'parker', hangExecute: 'attach', onHang: () => hanging.resolve() },
    { version },
  );
  const engine = createEngine({ store, flows: [flow], closeStore: false });
  const run = engine.start(flow.name, { name: 'web' }, { id: runId });
  await hanging.promise;
  await engine.close();
  await run.result.catch(() => {});
}

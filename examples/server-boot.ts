/**
 * Boot a server: allocate an IP, then create a volume and a port at once, then boot the VM.
 * Every step has a revert, so a failure anywhere leaves nothing behind.
 *
 *   npx tsx examples/server-boot.ts            # succeeds
 *   npx tsx examples/server-boot.ts boot-vm    # fails at boot-vm and reverts
 *
 * `makeServerBoot()` and `fakeCloud()` are reused by the demo (`npm run demo`) and the tests.
 */
import { pathToFileURL } from 'node:url';
import { createEngine, type Flow, FlowFailedError, linear, parallel, task } from '../src/index.js';

/** The tasks of the server boot, in the order they run. */
export const SERVER_BOOT_STEPS = ['allocate-ip', 'create-volume', 'create-port', 'boot-vm'] as const;
export type ServerBootStep = (typeof SERVER_BOOT_STEPS)[number];

/**
 * A pretend cloud API. It hands out predictable names and records every call, so the output is the
 * same on every run. Creation is idempotent by key: a task re-run after a crash (same
 * `ctx.idempotencyKey`) gets the resource it already made instead of a second one.
 */
export interface FakeCloud {
  /** Every call that changed something, in order: `create ip 10.0.0.1`, `delete ip 10.0.0.1`, ... */
  readonly calls: string[];
  /** What exists now. */
  readonly live: ReadonlySet<string>;
  create(kind: string, key: string): Promise<string>;
  delete(kind: string, id: string): Promise<void>;
}

export function fakeCloud(): FakeCloud {
  const calls: string[] = [];
  const live = new Set<string>();
  const byKey = new Map<string, string>();
  const counters = new Map<string, number>();
  return {
    calls,
    live,
    async create(kind, key) {
      const known = byKey.get(key);
      if (known) return known;
      const n = (counters.get(kind) ?? 0) + 1;
      counters.set(kind, n);
      const id = kind === 'ip' ? `10.0.0.${n}` : `${kind}-${n}`;
      // Ports answer one event-loop turn later than volumes: the two run at once, and the order in
      // which they finish (hence this example's output) is the same on every run.
      if (kind === 'port') await new Promise((resolve) => setImmediate(resolve));
      byKey.set(key, id);
      live.add(`${kind} ${id}`);
      calls.push(`create ${kind} ${id}`);
      return id;
    },
    async delete(kind, id) {
      if (kind === 'port') await new Promise((resolve) => setImmediate(resolve));
      live.delete(`${kind} ${id}`);
      calls.push(`delete ${kind} ${id}`);
    },
  };
}

export interface ServerBootOptions {
  /** Make this task's execute throw, to watch the run revert. */
  failAt?: ServerBootStep;
  /** The cloud the tasks call. @default a new fakeCloud() */
  cloud?: FakeCloud;
}

/**
 * The server boot flow: `allocate-ip` → (`create-volume` ‖ `create-port`) → `boot-vm`.
 * Inputs: `network`, `sizeGb`. Results: `ip`, `volume`, `port`, `vm`.
 *
 * @example
 * const cloud = fakeCloud();
 * await engine.run(makeServerBoot({ cloud }), { network: 'net-1', sizeGb: 20 }, { id: 'boot-1' });
 */
export function makeServerBoot(options: ServerBootOptions = {}): Flow {
  const cloud = options.cloud ?? fakeCloud();
  const failIf = (step: ServerBootStep) => {
    if (options.failAt === step) throw new Error(`${step}: injected failure`);
  };

  const allocateIp = task({
    name: 'allocate-ip',
    requires: 'network',
    provides: 'ip',
    async execute(_args: { network: string }, ctx) {
      failIf('allocate-ip');
      return cloud.create('ip', ctx.idempotencyKey);
    },
    async revert({ result }) {
      if (result) await cloud.delete('ip', result);
    },
  });

  const createVolume = task({
    name: 'create-volume',
    requires: 'sizeGb',
    provides: 'volume',
    async execute(_args: { sizeGb: number }, ctx) {
      failIf('create-volume');
      return cloud.create('volume', ctx.idempotencyKey);
    },
    async revert({ result }) {
      if (result) await cloud.delete('volume', result);
    },
  });

  const createPort = task({
    name: 'create-port',
    requires: ['network', 'ip'],
    provides: 'port',
    async execute(_args: { network: string; ip: string }, ctx) {
      failIf('create-port');
      return cloud.create('port', ctx.idempotencyKey);
    },
    async revert({ result }) {
      if (result) await cloud.delete('port', result);
    },
  });

  const bootVm = task({
    name: 'boot-vm',
    requires: ['ip', 'volume', 'port'],
    provides: 'vm',
    async execute(_args: { ip: string; volume: string; port: string }, ctx) {
      failIf('boot-vm');
      return cloud.create('vm', ctx.idempotencyKey);
    },
    // A failed boot has no result: its revert is called (with `error`) and has nothing to undo.
    async revert({ result }) {
      if (result) await cloud.delete('vm', result);
    },
  });

  return linear('server-boot', [allocateIp, parallel('prepare', [createVolume, createPort]), bootVm], {
    version: '1',
  });
}

/** The flow as most code uses it: no injected failure, a fresh fake cloud. */
export const serverBoot: Flow = makeServerBoot();

async function main(): Promise<void> {
  const failAt = process.argv[2] as ServerBootStep | undefined;
  if (failAt !== undefined && !SERVER_BOOT_STEPS.includes(failAt)) {
    throw new Error(`Expected a step to fail at (${SERVER_BOOT_STEPS.join(', ')}), got \`${failAt}\``);
  }
  const cloud = fakeCloud();
  const engine = createEngine(); // memory store
  const run = engine.start(
    makeServerBoot({ cloud, ...(failAt ? { failAt } : {}) }),
    { network: 'net-1', sizeGb: 20 },
    { id: 'boot-1' },
  );
  run.on('task', (e) =>
    console.log(`${e.task.padEnd(14)}${e.state}${e.error ? `  (${e.error.message})` : ''}`),
  );
  try {
    const results = await run.result;
    console.log(`\nrun ${run.id}: ${run.status} ${JSON.stringify(results)}`);
  } catch (error) {
    if (!(error instanceof FlowFailedError)) throw error;
    console.log(`\nrun ${run.id}: ${run.status}: ${error.message}`);
  }
  console.log(`cloud calls: ${cloud.calls.join(', ')}`);
  console.log(`left behind: ${[...cloud.live].join(', ') || 'nothing'}`);
  await engine.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

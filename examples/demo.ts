/**
 * `npm run demo`: the server boot, twice, on the in-memory store. First it succeeds; then a failure
 * is injected at boot-vm and everything that ran is reverted, in reverse dependency order.
 *
 * The live view prints a line per state change (tasks inside the parallel `prepare` step are
 * indented), then a table of final states, the revert order and what the fake cloud saw.
 */
import {
  createEngine,
  type Engine,
  FlowFailedError,
  type FlowRun,
  redisStore,
  StoreUnavailableError,
  type TaskState,
} from '../src/index.js';
import { fakeCloud, makeServerBoot, SERVER_BOOT_STEPS, type ServerBootStep } from './server-boot.js';

const INPUTS = { network: 'net-1', sizeGb: 20 };
/** Indentation shows the flow's shape: the two `prepare` tasks run side by side. */
const INDENT: Record<ServerBootStep, string> = {
  'allocate-ip': '',
  'create-volume': '  ',
  'create-port': '  ',
  'boot-vm': '',
};
const WIDTH = 16;

async function boot(engine: Engine, id: string, failAt?: ServerBootStep): Promise<void> {
  const cloud = fakeCloud();
  const flow = makeServerBoot({ cloud, ...(failAt ? { failAt } : {}) });
  console.log(`\n=== run ${id}${failAt ? ` (failure injected at ${failAt})` : ''} ===`);

  const states = new Map<string, { state: TaskState; attempt: number }>();
  // Tasks that start reverting together (no revert finished in between) form one wave.
  const revertWaves: string[][] = [];
  let waveOpen = false;
  let step = 0;
  const run: FlowRun = engine.start(flow, INPUTS, { id });
  run.on('flow', (e) => console.log(`${String(++step).padStart(3)}  [run ${e.state}]`));
  run.on('task', (e) => {
    states.set(e.task, { state: e.state, attempt: e.attempt });
    if (e.state === 'REVERTING') {
      if (!waveOpen) revertWaves.push([]);
      revertWaves.at(-1)?.push(e.task);
      waveOpen = true;
    } else if (e.state === 'REVERTED' || e.state === 'REVERT_FAILURE') {
      waveOpen = false;
    }
    const name = `${INDENT[e.task as ServerBootStep] ?? ''}${e.task}`;
    const detail = e.result !== undefined ? `→ ${String(e.result)}` : e.error ? `✗ ${e.error.message}` : '';
    console.log(
      `${String(++step).padStart(3)}    ${name.padEnd(WIDTH)}${e.state.padEnd(11)}${detail}`.trimEnd(),
    );
  });

  try {
    const results = await run.result;
    console.log(
      `\nresult: ${Object.entries(results)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}`,
    );
  } catch (error) {
    if (!(error instanceof FlowFailedError)) throw error;
    console.log(`\n${error.name}: ${error.message}`);
  }

  console.log(`\n  ${'task'.padEnd(WIDTH)}${'final state'.padEnd(13)}attempts`);
  console.log(`  ${'-'.repeat(WIDTH + 13 + 8)}`);
  for (const task of SERVER_BOOT_STEPS) {
    const s = states.get(task);
    console.log(`  ${task.padEnd(WIDTH)}${(s?.state ?? 'PENDING').padEnd(13)}${s?.attempt ?? 0}`);
  }
  const stored = await engine.get(id);
  console.log(
    `  stored run: ${stored?.meta.status} (flow ${stored?.meta.flow}, version ${stored?.meta.version})`,
  );
  if (revertWaves.length > 0)
    console.log(`\nrevert order: ${revertWaves.map((w) => w.join(' ‖ ')).join(' → ')}`);
  console.log(`cloud calls:  ${cloud.calls.join(', ')}`);
  console.log(`left behind:  ${[...cloud.live].join(', ') || 'nothing'}`);
}

// `npm run demo -- --redis [url] [--prefix p]` stores the runs in Redis (prefix tw unless given), for
// `npx taskweave runs ls` and the dashboard (pass them the same --prefix).
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  return value === undefined || value.startsWith('--') ? '' : value;
};
const redisFlag = flag('--redis');
const redisUrl =
  redisFlag === undefined ? undefined : redisFlag || process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const prefix = flag('--prefix') || 'tw';
// Stored runs outlive the demo: each run against Redis gets ids of its own.
const suffix = redisUrl ? `-${Date.now().toString(36)}` : '';
console.log('taskweave demo: server-boot = allocate-ip → (create-volume ‖ create-port) → boot-vm');
console.log(
  `store: ${redisUrl ? `redis (${redisUrl}, prefix ${prefix})` : 'memory'}; every state change below was stored before the next task started`,
);
// A Redis that does not answer is one line after 5 s, not a stack trace after the store's usual 30 s.
const engine = createEngine(
  redisUrl ? { store: redisStore({ redis: redisUrl, prefix }), unavailableDeadlineMs: 5_000 } : {},
);
try {
  await boot(engine, `boot-ok${suffix}`);
  await boot(engine, `boot-fail${suffix}`, 'boot-vm');
} catch (error) {
  if (!(error instanceof StoreUnavailableError)) throw error;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  process.stderr.write(
    `demo: cannot reach Redis at ${redisUrl}${cause}. Start redis-server, or pass its URL: npm run demo -- --redis <url>.\n`,
  );
  process.exitCode = 1;
} finally {
  await engine.close();
}

import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  createWorker,
  DeliveryExhaustedError,
  type Engine,
  FlowFailedError,
  redisStore,
  type Worker,
} from '../../src/index.js';
import {
  chainFlow,
  countOf,
  deferred,
  PROVISION_RESULTS,
  provisionFlow,
  redisEffects,
} from '../support/flows.js';
import { cleanPrefix, newRedis, REDIS_URL, testPrefix } from '../support/redis.js';
import { STARTER, startProcess, startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * Liveness of distributed execution with real processes: a worker SIGKILLed or frozen mid-task, the
 * task re-delivered to another after the visibility timeout with the same idempotency key, deliveries
 * bounded, a frozen worker's late outcome fenced out.
 */
const redis = newRedis();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const prefix = testPrefix('dlive');
  const log = redisEffects(redis, prefix);
  const processes: WorkerProcess[] = [];
  const workers: Worker[] = [];
  const engines: Engine[] = [];
  cleanups.push(async () => {
    for (const p of processes) await p.kill();
    for (const w of workers) await w.close();
    for (const e of engines) await e.close();
    await cleanPrefix(redis, prefix);
  });
  const engine = createEngine({
    store: redisStore({ redis: REDIS_URL, prefix }),
    flows: [provisionFlow(log), chainFlow(log)],
    execution: 'distributed',
  });
  engines.push(engine);
  return {
    prefix,
    log,
    engine,
    child(label: string, behaviour = {}, options = {}) {
      const p = startWorkerProcess(prefix, label, behaviour, options);
      processes.push(p);
      return p;
    },
    worker(
      label: string,
      options: Partial<Parameters<typeof createWorker>[0]> = {},
      delayMs = 0,
      /** Each effect waits for this after it is recorded (a gate the test opens). */
      hold?: Promise<void>,
    ) {
      const store = redisStore({ redis: REDIS_URL, prefix });
      const behaviour = {
        label,
        ...(delayMs ? { before: () => new Promise<void>((r) => setTimeout(r, delayMs)) } : {}),
        ...(hold ? { before: () => hold } : {}),
      };
      const w = createWorker({
        store,
        flows: [provisionFlow(log, behaviour), chainFlow(log, behaviour)],
        pollMs: 20,
        ...options,
      });
      workers.push(w);
      cleanups.push(() => store.close());
      return w;
    },
  };
}

describe('distributed execution: liveness', () => {
  it('a worker killed mid-execute: another executes the task again once, with the same key, after the visibility timeout', async () => {
    const { engine, log, child, worker } = setup();
    const doomed = child('doomed', { hangExecute: 'attach' }, { visibilityTimeoutMs: 400 });
    await doomed.waitForLine((l) => l === 'READY');
    const run = engine.start('provision', { name: 'web' }, { id: 'kill-1' });
    await doomed.waitForLine((l) => l.startsWith('HANGING execute attach'));
    const killedAt = Date.now();
    await doomed.kill();
    await worker('rescuer', { visibilityTimeoutMs: 400 }).start();
    expect(await run.result).toEqual(PROVISION_RESULTS);
    // Not taken before the visibility timeout: the doomed worker's last extension of its claim came at
    // most one extension interval (400 / 3 ms) before the kill, so the rescue waits at least the rest.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(400 - 400 / 3 - 20);
    const effects = await log.all();
    const attach = effects.filter((e) => e.task === 'attach' && e.kind === 'execute');
    expect(attach.map((e) => e.label)).toEqual(['doomed', 'rescuer']);
    expect(attach[0]!.key).toBe(attach[1]!.key);
    expect(countOf(effects)).toEqual({ reserve: 1, format: 1, tag: 1, attach: 2, boot: 1 });
  });

  it('a worker killed mid-revert: another reverts the task again once, with the same key', async () => {
    const { engine, log, child, worker } = setup();
    const doomed = child('doomed', { fail: ['d'], hangRevert: 'b' }, { visibilityTimeoutMs: 400 });
    await doomed.waitForLine((l) => l === 'READY');
    const run = engine.start('chain', { seed: 's' }, { id: 'kill-2' });
    await doomed.waitForLine((l) => l.startsWith('HANGING revert b'));
    await doomed.kill();
    await worker('rescuer', { visibilityTimeoutMs: 400 }).start();
    const error = await run.result.catch((e: Error) => e);
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(run.status).toBe('REVERTED');
    const reverts = (await log.all()).filter((e) => e.kind === 'revert');
    expect(reverts.map((e) => `${e.task} ${e.label}`)).toEqual([
      'd doomed',
      'c doomed',
      'b doomed',
      'b rescuer',
      'a rescuer',
    ]);
    expect(reverts[2]!.key).toBe(reverts[3]!.key);
  });

  it('a live worker keeps its task past the visibility timeout (it extends its claim)', async () => {
    const { engine, log, worker } = setup();
    // Each task takes 3 visibility timeouts; the other worker must not take any of them over. The
    // timeout leaves the extension (every third of it) room for a loaded machine's event-loop stalls.
    const slow = worker('slow', { visibilityTimeoutMs: 250 }, 750);
    const other = worker('other', { visibilityTimeoutMs: 250 }, 750);
    await slow.start();
    const run = engine.start('chain', { seed: 's' });
    await waitForEffect(log, (e) => e.task === 'a');
    await other.start();
    await run.result;
    const effects = await log.all();
    expect(countOf(effects)).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    expect(effects.find((e) => e.task === 'a')!.label).toBe('slow');
  });

  it('after maxDeliveries the task fails with DeliveryExhaustedError without executing, and the run reverts', async () => {
    const { engine, log, child, worker } = setup();
    const options = { visibilityTimeoutMs: 300, maxDeliveries: 2 };
    let run: ReturnType<Engine['start']> | undefined;
    for (const label of ['doomed-1', 'doomed-2']) {
      const doomed = child(label, { hangExecute: 'attach' }, options);
      await doomed.waitForLine((l) => l === 'READY');
      run ??= engine.start('provision', { name: 'web' }, { id: 'exhaust' });
      await doomed.waitForLine((l) => l.startsWith('HANGING execute attach'));
      await doomed.kill();
    }
    await worker('third', options).start();
    const error = (await run!.result.catch((e: Error) => e)) as FlowFailedError;
    expect(error).toBeInstanceOf(FlowFailedError);
    const failure = error.failures.find((f) => f.task === 'attach')!.error as DeliveryExhaustedError;
    expect(failure).toBeInstanceOf(DeliveryExhaustedError);
    expect(failure).toMatchObject({ runId: 'exhaust', task: 'attach', deliveries: 3 });
    const effects = await log.all();
    expect(effects.filter((e) => e.task === 'attach' && e.kind === 'execute').map((e) => e.label)).toEqual([
      'doomed-1',
      'doomed-2',
    ]);
    expect(countOf(effects, 'revert')).toMatchObject({ reserve: 1, format: 1, tag: 1, attach: 1 });
  });

  it('a frozen worker that wakes while its re-delivered task still runs elsewhere is fenced out by the message, not the version', async () => {
    const { engine, log, child, worker } = setup();
    const frozen = child('frozen', { delayMs: 300 }, { visibilityTimeoutMs: 200 });
    await frozen.waitForLine((l) => l === 'READY');
    const run = engine.start('chain', { seed: 's' }, { id: 'frozen-early' });
    await waitForEffect(log, (e) => e.task === 'a');
    frozen.process.kill('SIGSTOP');
    const hold = deferred();
    await worker('awake', { visibilityTimeoutMs: 200 }, 0, hold.promise).start();
    // The other worker has taken a and is executing it (held): the run's version has not moved, so
    // only the message's new owner tells the frozen worker its outcome is no longer wanted.
    await waitForEffect(log, (e) => e.task === 'a' && e.label === 'awake');
    frozen.process.kill('SIGCONT');
    await frozen.waitForLine((l) => l.startsWith('DROPPED a'));
    hold.resolve();
    expect(await run.result).toEqual({ ra: 'sa', rb: 'sab', rc: 'sabc', rd: 'sabcd' });
    const history = await engine.history('frozen-early');
    expect(history.filter((e) => e.task === 'a' && e.state === 'SUCCESS')).toHaveLength(1);
  });

  it('a frozen worker that wakes after its task was re-delivered has its outcome fenced out', async () => {
    const { engine, log, child, worker } = setup();
    const frozen = child('frozen', { delayMs: 300 }, { visibilityTimeoutMs: 200 });
    await frozen.waitForLine((l) => l === 'READY');
    const run = engine.start('chain', { seed: 's' }, { id: 'frozen' });
    // a is recorded (executing, 300 ms to go): freeze the whole process past its visibility timeout.
    await waitForEffect(log, (e) => e.task === 'a');
    frozen.process.kill('SIGSTOP');
    await worker('awake', { visibilityTimeoutMs: 200 }).start();
    await waitForEffect(log, (e) => e.task === 'a' && e.label === 'awake');
    frozen.process.kill('SIGCONT');
    await frozen.waitForLine((l) => l.startsWith('DROPPED a'));
    expect(await run.result).toEqual({ ra: 'sa', rb: 'sab', rc: 'sabc', rd: 'sabcd' });
    const history = await engine.history('frozen');
    expect(history.filter((e) => e.task === 'a' && e.state === 'SUCCESS')).toHaveLength(1);
  });
});

describe('distributed execution: the starting engine', () => {
  it('killed right after the start: the run still completes, and a watch from any process sees it', async () => {
    const { prefix, log, worker } = setup();
    const starter = startProcess(STARTER, [REDIS_URL, prefix, 'orphan']);
    await starter.waitForLine((l) => l === 'STARTED');
    await starter.kill();
    await worker('after').start();
    // Another engine, which knows no flow, watches the run to its end.
    const watcher = createEngine({ store: redisStore({ redis: REDIS_URL, prefix }) });
    const seen: string[] = [];
    for await (const event of watcher.watch('orphan')) seen.push(`${event.task ?? '[run]'} ${event.state}`);
    await watcher.close();
    expect(seen[0]).toBe('[run] RUNNING');
    expect(seen.at(-1)).toBe('[run] SUCCESS');
    expect(seen.filter((s) => s.endsWith('SUCCESS'))).toHaveLength(6);
    expect(countOf(await log.all())).toEqual({ reserve: 1, format: 1, tag: 1, attach: 1, boot: 1 });
  });
});

async function waitForEffect(
  log: ReturnType<typeof redisEffects>,
  match: (e: Awaited<ReturnType<ReturnType<typeof redisEffects>['all']>>[number]) => boolean,
): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await log.all()).some(match)) {
    if (Date.now() > until) throw new Error('no such effect within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

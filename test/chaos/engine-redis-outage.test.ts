import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createEngine, type Engine, redisStore, type Store, StoreUnavailableError } from '../../src/index.js';
import {
  countOf,
  type Deferred,
  deferred,
  type EffectLog,
  memoryEffects,
  PROVISION_RESULTS,
  provisionFlow,
  untilAborted,
  waitFor,
} from '../support/flows.js';
import { testPrefix } from '../support/redis.js';
import { dumpPrefix } from '../support/redis-dump.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * Invariant 6, Redis unavailable: engines stop starting tasks while it is down (invariant 1 holds),
 * the store's calls retry with backoff (src/redis/call.ts), and runs go on when it returns; past `unavailableDeadlineMs` the run stops with
 * StoreUnavailableError and can be resumed later. Runs on a test-owned redis-server with AOF
 * (`appendfsync always`), SIGKILLed and restarted under the engine.
 */
let server: OwnedRedis;
let inspector: Redis;

beforeAll(async () => {
  server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'always']);
  inspector = new Redis(server.url, { maxRetriesPerRequest: null });
  inspector.on('error', () => {});
});

afterAll(async () => {
  inspector?.disconnect();
  await server?.stop();
});

describe('the engine while its Redis is down', () => {
  let prefix: string;
  let log: EffectLog;
  let engine: Engine;
  let store: Store;
  let formatGate: Deferred;
  let formatStarted: Deferred;
  /** attach is RUNNING in the run's machine (not necessarily stored). */
  let attachDue: Deferred;

  const open = (deadlineMs?: number, storeDeadlineMs = deadlineMs) => {
    store = redisStore({
      redis: server.url,
      prefix,
      ...(storeDeadlineMs === undefined ? {} : { unavailableDeadlineMs: storeDeadlineMs }),
    });
    const flow = provisionFlow(log, {
      async before(task, kind, ctx) {
        if (task !== 'format' || kind !== 'execute') return;
        formatStarted.resolve();
        await Promise.race([formatGate.promise, untilAborted(ctx.signal)]);
      },
    });
    engine = createEngine({
      store,
      flows: [flow],
      ...(deadlineMs === undefined ? {} : { unavailableDeadlineMs: deadlineMs }),
      // The machine's own changes, before they are stored (a FlowRun reports only what is stored).
      inspect: (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot' || event.actorRef.sessionId !== event.rootId) return;
        const groups = (event.snapshot as unknown as { context: { tasks: Record<string, { s: string }>[] } })
          .context.tasks;
        if (groups.some((g) => g.attach?.s === 'RUNNING')) attachDue.resolve();
      },
    });
  };

  /** Start a run and kill Redis while format runs (reserve and tag are stored SUCCESS). */
  const startThenKill = async (runId: string) => {
    const run = engine.start('provision', { name: 'web' }, { id: runId });
    await formatStarted.promise;
    await waitFor(
      async () => (await inspector.hget(`{${prefix}:${runId}}:parts`, 't:tag'))?.startsWith('{"s":"SUCCESS"'),
      5_000,
      'tag to be stored SUCCESS',
    );
    await server.kill();
    return run;
  };

  beforeEach(() => {
    prefix = testPrefix('outage');
    log = memoryEffects();
    formatGate = deferred();
    formatStarted = deferred();
    attachDue = deferred();
  });

  afterEach(async () => {
    if (server.process.exitCode !== null || server.process.signalCode !== null) await server.start();
    await engine.close();
    await store.close();
  });

  it('starts no task while Redis is down, then finishes the run with nothing lost when it returns', async () => {
    open();
    const run = await startThenKill('outage-recovers');
    const heard: string[] = [];
    run.on('task', (e) => heard.push(`${e.task} ${e.state}`));
    formatGate.resolve();
    // format's completion moves attach to RUNNING in the machine; its execute waits for a write that
    // Redis cannot take. Give it time to (wrongly) start.
    await attachDue.promise;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(countOf(await log.all()).attach).toBeUndefined();
    expect(run.status).toBe('RUNNING');
    // Listeners hear what is stored: nothing of format's end or attach's start while Redis is down.
    expect(heard).toEqual([]);

    const restarting = performance.now();
    await server.start();
    expect(await run.result).toEqual(PROVISION_RESULTS);
    // README "When Redis fails" quotes this time: the waiting write went through once Redis was back.
    console.info(`run done ${Math.round(performance.now() - restarting)} ms after Redis was started again`);
    expect(countOf(await log.all())).toEqual({ reserve: 1, format: 1, tag: 1, attach: 1, boot: 1 });

    // What was acknowledged survives another SIGKILL (AOF, fsync always).
    const stored = await dumpPrefix(inspector, prefix);
    await server.kill();
    await server.start();
    expect(await dumpPrefix(inspector, prefix)).toEqual(stored);
    const info = await engine.get('outage-recovers');
    expect(info?.meta.status).toBe('SUCCESS');
    expect(info?.results).toEqual(PROVISION_RESULTS);
  });

  it('rejects with StoreUnavailableError past unavailableDeadlineMs; engine.resume finishes the run later', async () => {
    open(300);
    const run = await startThenKill('outage-gives-up');
    formatGate.resolve();
    const began = Date.now();
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(countOf(await log.all()).attach).toBeUndefined();

    await server.start();
    // The write that gave up may still land: the store's client queued it while Redis was down and
    // sends it on reconnecting (fenced, versioned, so it is simply the next version). Either way the
    // store shows format RUNNING or SUCCESS, never attach started.
    const stored = await store.load('outage-gives-up');
    const formatState = (JSON.parse(stored!.parts['t:format']!) as { s: string }).s;
    expect(['RUNNING', 'SUCCESS']).toContain(formatState);
    const resumed = await engine.resume('outage-gives-up');
    expect(await resumed.result).toEqual(PROVISION_RESULTS);
    const effects = await log.all();
    const formatRuns = formatState === 'RUNNING' ? 2 : 1;
    expect(countOf(effects)).toEqual({ reserve: 1, format: formatRuns, tag: 1, attach: 1, boot: 1 });
    expect(new Set(effects.filter((e) => e.task === 'format').map((e) => e.key))).toEqual(
      new Set(['outage-gives-up:format']),
    );
    expect((await store.load('outage-gives-up'))?.meta.status).toBe('SUCCESS');
  });

  it("gives up at the engine's unavailableDeadlineMs even when its store would retry for longer", async () => {
    open(400, 10_000);
    const run = await startThenKill('engine-deadline');
    formatGate.resolve();
    const began = Date.now();
    const error = await run.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    // The store alone would have waited 10 s: the engine's deadline is what stopped the write.
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(countOf(await log.all()).attach).toBeUndefined();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  createConductor,
  createEngine,
  type Engine,
  JobLostError,
  LeaseLostError,
  linear,
  RunLostError,
  redisJobBoard,
  redisStore,
  task,
} from '../../src/index.js';
import { deferred, untilAborted } from '../support/flows.js';
import { type OwnedRedis, startRedis } from '../support/redis-server.js';

/**
 * A Redis restarted under a live engine: with AOF (`appendfsync always`) nothing is lost and the run
 * finishes; without persistence the run is gone, and the engine says so with RunLostError — not
 * LeaseLostError, which would send an operator looking for another engine that never existed.
 */
describe('Redis restarted mid-run', () => {
  let server: OwnedRedis | undefined;
  let engine: Engine | undefined;

  afterEach(async () => {
    await engine?.close();
    await server?.stop();
    engine = undefined;
    server = undefined;
  });

  const runAcrossRestart = async (args: string[]) => {
    server = await startRedis(args);
    const started = deferred();
    const gate = deferred();
    const flow = linear('restart', [
      task({
        name: 'slow',
        provides: 'x',
        async execute() {
          started.resolve();
          await gate.promise;
          return 1;
        },
      }),
      task({ name: 'after', requires: 'x', provides: 'y', execute: async ({ x }: { x: number }) => x + 1 }),
    ]);
    engine = createEngine({ store: redisStore({ redis: server.url }), unavailableDeadlineMs: 10_000 });
    const run = engine.start(flow, {}, { id: 'restarted' });
    const outcome = run.result.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // `slow` runs only once the run is stored (durable before effect).
    await started.promise;
    const began = performance.now();
    await server.kill();
    await server.start();
    gate.resolve();
    const settled = await outcome;
    // README "When Redis fails" quotes this time.
    console.info(
      `run settled ${Math.round(performance.now() - began)} ms after the restart began (${args.join(' ') || 'no persistence'})`,
    );
    return { outcome: settled, engine };
  };

  it('without persistence: the run vanished, RunLostError (never LeaseLostError)', async () => {
    const { outcome } = await runAcrossRestart([]);
    expect('error' in outcome).toBe(true);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(RunLostError);
    expect(error).not.toBeInstanceOf(LeaseLostError);
    expect(error).toMatchObject({ runId: 'restarted' });
    expect((error as Error).message).toMatch(/no longer in the store/);
  });

  it('with AOF (appendfsync always): nothing is lost and the run finishes', async () => {
    const { outcome, engine } = await runAcrossRestart(['--appendonly', 'yes', '--appendfsync', 'always']);
    expect(outcome).toEqual({ value: { x: 1, y: 2 } });
    expect((await engine.get('restarted'))?.meta.status).toBe('SUCCESS');
  });
});

describe('Redis restarted without persistence under a conductor', () => {
  it('the job vanished: the conductor says JobLostError (never LeaseLostError) and stops the run', async () => {
    const server = await startRedis();
    const started = deferred();
    const flow = linear('job-gone', [
      task({
        name: 'waits',
        execute: (_args, ctx) => {
          started.resolve();
          return untilAborted(ctx.signal);
        },
      }),
    ]);
    const board = redisJobBoard({ redis: server.url, unavailableDeadlineMs: 5_000 });
    const engine = createEngine({ store: redisStore({ redis: server.url }), flows: [flow] });
    const conductor = createConductor({ board, engine, leaseMs: 1_000 });
    const lost = new Promise<{ reason: string; error?: Error }>((resolve) => conductor.on('lost', resolve));
    try {
      await conductor.start();
      await board.post({ flow: 'job-gone', id: 'gone-1' });
      await started.promise;
      await server.kill();
      await server.start();
      const { reason, error } = await lost;
      expect(reason).toBe('refused');
      expect(error).toBeInstanceOf(JobLostError);
      expect(error).not.toBeInstanceOf(LeaseLostError);
      expect(error).toMatchObject({ jobId: 'gone-1' });
      expect(error?.message).toMatch(/no longer on the board/);
    } finally {
      await conductor.stop();
      await engine.close();
      await board.close();
      await server.stop();
    }
  });
});

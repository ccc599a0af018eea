import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FlowFailedError,
  linear,
  parallel,
  RevertFailedError,
  TaskTimeoutError,
  task,
} from '../../src/index.js';
import {
  deferred,
  distributedMode,
  failing,
  newEngine,
  nextTaskEvent,
  rejectionOf,
  taskStates,
} from './engine-support.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A task that fails its first `failures` executions, recording each attempt's ctx. */
function flaky(
  name: string,
  failures: number,
  options: { attempts: number; backoffMs?: number; factor?: number; maxBackoffMs?: number },
) {
  const attempts: { attempt: number; key: string }[] = [];
  const reverts: unknown[] = [];
  const t = task({
    name,
    provides: name,
    retry: options,
    execute: (_args, ctx) => {
      attempts.push({ attempt: ctx.attempt, key: ctx.idempotencyKey });
      if (attempts.length <= failures) throw new Error(`flaky ${attempts.length}`);
      return attempts.length;
    },
    revert: ({ result, error }) => void reverts.push({ result, error: error?.message }),
  });
  return { task: t, attempts, reverts };
}

describe('per-task retry', () => {
  it('re-executes a failing task until it succeeds, attempts counting from 1', async () => {
    const f = flaky('flaky', 2, { attempts: 3 });
    const run = newEngine().start(linear('retry-ok', [f.task]));
    const states = taskStates(run);
    expect(await run.result).toEqual({ flaky: 3 });
    expect(f.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(states).toEqual([
      'flaky RUNNING',
      'flaky RETRYING',
      'flaky RUNNING',
      'flaky RETRYING',
      'flaky RUNNING',
      'flaky SUCCESS',
    ]);
    expect(f.reverts).toEqual([]);
  });

  it('keeps the idempotency key across attempts', async () => {
    const f = flaky('flaky', 2, { attempts: 3 });
    await newEngine().run(linear('retry-key', [f.task]), {}, { id: 'run-key' });
    const keys = new Set(f.attempts.map((a) => a.key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toContain('run-key');
  });

  it('reports the attempt and the error on RETRYING events', async () => {
    const f = flaky('flaky', 1, { attempts: 2 });
    const run = newEngine().start(linear('retry-events', [f.task]));
    const retrying = nextTaskEvent(run, 'flaky', 'RETRYING');
    await run.result;
    const event = await retrying;
    expect(event.attempt).toBe(1);
    expect(event.error?.message).toBe('flaky 1');
  });

  it('fails after `attempts` executions in all, then reverts with the last error', async () => {
    const f = flaky('flaky', 99, { attempts: 2 });
    const error = await rejectionOf(newEngine().run(linear('retry-exhausted', [f.task])));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect((error.cause as Error).message).toBe('flaky 2');
    expect(f.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(f.reverts).toEqual([{ result: undefined, error: 'flaky 2' }]);
  });

  // In-process only: fake timers cannot drive Redis round trips.
  it.skipIf(distributedMode)(
    'waits the backoff before each new attempt, growing by factor up to maxBackoffMs',
    async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const f = flaky('flaky', 3, { attempts: 4, backoffMs: 1_000, factor: 3, maxBackoffMs: 2_500 });
      const run = newEngine().start(linear('backoff', [f.task]));
      await vi.advanceTimersByTimeAsync(0);
      expect(f.attempts).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(f.attempts).toHaveLength(1); // 1,000 ms before the second attempt
      await vi.advanceTimersByTimeAsync(1);
      expect(f.attempts).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(2_499);
      expect(f.attempts).toHaveLength(2); // 3,000 ms capped at 2,500
      await vi.advanceTimersByTimeAsync(1);
      expect(f.attempts).toHaveLength(3);
      await vi.advanceTimersByTimeAsync(2_500);
      expect(f.attempts).toHaveLength(4);
      expect(await run.result).toEqual({ flaky: 4 });
    },
  );

  it('stops a task waiting for its backoff when the run reverts: no further attempt', async () => {
    const log: string[] = [];
    const firstFailure = deferred();
    let executions = 0;
    const flow = parallel('retry-aborted', [
      task({
        name: 'slowRetry',
        retry: { attempts: 5, backoffMs: 3_600_000 },
        execute: () => {
          executions += 1;
          throw new Error('not yet');
        },
        revert: ({ error }) => void log.push(`slowRetry reverted (${error?.message})`),
      }),
      task({
        name: 'fail',
        async execute() {
          await firstFailure.promise;
          throw new Error('Woot');
        },
      }),
    ]);
    const run = newEngine().start(flow);
    run.on('task', (e) => e.task === 'slowRetry' && e.state === 'RETRYING' && firstFailure.resolve());
    const states = taskStates(run);
    await rejectionOf(run.result);
    expect(executions).toBe(1);
    expect(states).toContain('slowRetry FAILURE');
    expect(log).toEqual(['slowRetry reverted (not yet)']);
  });
});

describe('timeoutMs', () => {
  it('fails the attempt with TaskTimeoutError and aborts ctx.signal', async () => {
    let signal: AbortSignal | undefined;
    const flow = linear('timeout', [
      task({
        name: 'hang',
        timeoutMs: 20,
        execute: (_args, ctx) => {
          signal = ctx.signal;
          return new Promise(() => {}); // never settles by itself
        },
      }),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(FlowFailedError);
    expect(error.cause).toBeInstanceOf(TaskTimeoutError);
    expect(error.cause).toMatchObject({ task: 'hang', timeoutMs: 20 });
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TaskTimeoutError);
  });

  it('lets a retry follow a timed-out attempt, with a fresh signal', async () => {
    const signals: AbortSignal[] = [];
    const flow = linear('timeout-retry', [
      task({
        name: 'slowThenFast',
        provides: 'v',
        timeoutMs: 20,
        retry: { attempts: 2 },
        execute: (_args, ctx) => {
          signals.push(ctx.signal);
          return ctx.attempt === 1 ? new Promise(() => {}) : 'fast';
        },
      }),
    ]);
    expect(await newEngine().run(flow)).toEqual({ v: 'fast' });
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
  });

  it('applies to revert too: a revert that hangs fails the run with RevertFailedError', async () => {
    const flow = linear('revert-timeout', [
      task({ name: 'stuck', timeoutMs: 20, execute: () => 1, revert: () => new Promise(() => {}) }),
      failing([], 'fail'),
    ]);
    const error = await rejectionOf(newEngine().run(flow));
    expect(error).toBeInstanceOf(RevertFailedError);
    expect((error as RevertFailedError).revertFailures[0]?.error).toBeInstanceOf(TaskTimeoutError);
  });
});

import { describe, expect, it } from 'vitest';
import { CancelledError, createEngine, linear, RunSuspendedError, task } from '../../src/index.js';

/** Commands given right after `start()`, before the run's creation reached the store. */
describe('commands before the run has started here', () => {
  const make = (log: string[]) =>
    linear('early', [
      task({ name: 'a', execute: () => void log.push('a'), revert: () => void log.push('a reverted') }),
      task({ name: 'b', execute: () => void log.push('b'), revert: () => void log.push('b reverted') }),
    ]);

  it('cancel() right after start() cancels: nothing executes, result rejects with CancelledError', async () => {
    const log: string[] = [];
    const engine = createEngine();
    const run = engine.start(make(log), {}, { id: 'early-cancel' });
    const cancelled = run.cancel();
    await expect(run.result).rejects.toBeInstanceOf(CancelledError);
    await cancelled;
    // `a` was marked RUNNING (so it may have had an effect in some earlier life of the run): it is
    // reverted, but its execute never started; `b` never ran.
    expect(log).toEqual(['a reverted']);
    await engine.close();
  });

  it('suspend() right after start() suspends; resume then runs every task once', async () => {
    const log: string[] = [];
    const engine = createEngine();
    const flow = make(log);
    const run = engine.start(flow, {}, { id: 'early-suspend' });
    await run.suspend();
    await expect(run.result).rejects.toBeInstanceOf(RunSuspendedError);
    const resumed = await engine.resume('early-suspend');
    await resumed.result;
    expect(log).toEqual(['a', 'b']);
    await engine.close();
  });
});

import { type Flow, linear, type TaskContext, task } from '../../src/index.js';
import { type EffectLog, untilAborted } from './flows.js';

/**
 * `steps`: a linear flow of `count` tasks s0 → s1 → …, each waiting `stepMs` (abortable) and passing
 * a growing string on. Inputs `{ seed }`; the last task provides `out` (`<seed>` + one `.` per task).
 * Every execute and revert is recorded in `log` first; `gate` may hold a task (e.g. until aborted).
 */
export interface StepsOptions {
  count?: number;
  stepMs?: number;
  label?: string;
  /** Tasks whose execute throws. */
  fail?: readonly string[];
  /** Awaited by every execute after it is recorded. */
  gate?(task: string, ctx: TaskContext): Promise<void> | void;
}

export function stepsFlow(log: EffectLog, options: StepsOptions = {}): Flow {
  const { count = 4, stepMs = 20, label = 'main', fail = [] } = options;
  const tasks = Array.from({ length: count }, (_, i) => {
    const name = `s${i}`;
    const input = i === 0 ? 'seed' : `v${i - 1}`;
    return task({
      name,
      requires: [input],
      provides: i === count - 1 ? 'out' : `v${i}`,
      async execute(args: Record<string, any>, ctx) {
        await log.record({ kind: 'execute', task: name, key: ctx.idempotencyKey, label });
        await options.gate?.(name, ctx);
        await pause(stepMs, ctx.signal);
        if (fail.includes(name)) throw new Error(`${name} broke`);
        return `${args[input]}.`;
      },
      async revert(_args, ctx) {
        await log.record({ kind: 'revert', task: name, key: ctx.idempotencyKey, label });
      },
    });
  });
  return linear('steps', tasks, { version: '1' });
}

/** Wait `ms`, or reject with the signal's reason once it aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms)), untilAborted(signal)]);
}

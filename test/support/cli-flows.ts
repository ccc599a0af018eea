import { type Flow, linear, parallel, type TaskContext, task } from '../../src/index.js';

/**
 * Flows for the CLI and dashboard tests. The test process builds them with gates (to hold runs in a
 * state); the `taskweave` process loads this module's exports, the same structures with plain tasks.
 */
export interface CliBehaviour {
  /** Called by each execute; its promise is what the task returns (or throws). */
  execute?(name: string, ctx: TaskContext): Promise<unknown> | unknown;
  revert?(name: string, ctx: TaskContext): Promise<unknown> | unknown;
}

export function makeCliFlows(b: CliBehaviour = {}): Record<string, Flow> {
  const t = (name: string, extra: object = {}) =>
    task({
      name,
      execute: (_args, ctx) => (b.execute ? b.execute(name, ctx) : name),
      revert: (_args, ctx) => b.revert?.(name, ctx),
      ...extra,
    });
  return {
    ok: linear('cli-ok', [t('fetch'), t('store')]),
    steps: linear('cli-steps', [t('reserve'), parallel('prepare', [t('format'), t('tag')]), t('attach')]),
    flaky: linear('cli-flaky', [t('call-api', { retry: { attempts: 4, backoffMs: 600_000 } })]),
    wide: parallel('cli-wide', [t('w1'), t('w2'), t('w3')]),
  };
}

const plain = makeCliFlows({
  execute: async (name, ctx) => {
    ctx.progress(0.5);
    return name;
  },
});
export const ok = plain.ok;
export const steps = plain.steps;
export const flaky = plain.flaky;
export const wide = plain.wide;

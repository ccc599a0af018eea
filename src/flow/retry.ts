import { FlowDefinitionError } from '../errors.js';
import { describe, expectName, expectNumber } from './options.js';
import type { RetryController, RetryDecision } from './types.js';

/**
 * Flow-level retry controllers with TaskFlow's strategies: on a failure in its scope the controller
 * answers RETRY (revert the scope, run it again), REVERT (revert the scope, fail outwards) or
 * REVERT_ALL (revert the whole run). An outer controller's RETRY or REVERT_ALL wins over an inner REVERT.
 */
export const retry = {
  /**
   * Run the scope at most `n` times in all. Provides the 1-based try number under `provides`, if given.
   * @example linear('attach', [reserve, attach], { retry: retry.times(3) })
   */
  times(n: number, options: { revertAll?: boolean; provides?: string } = {}): RetryController {
    expectNumber('n` of `retry.times(n)', n, 1, true);
    const exhausted: RetryDecision = options.revertAll ? 'REVERT_ALL' : 'REVERT';
    return controller({
      kind: 'times',
      provides: options.provides,
      requires: undefined,
      describe: `times(${n}${options.revertAll ? ', revertAll' : ''})`,
      decide: (iteration) => (iteration + 1 < n ? 'RETRY' : exhausted),
      valueAt: (iteration) => iteration + 1,
    });
  },

  /**
   * Run the scope once per value until one run succeeds; each run sees the value under `provides`.
   * @example linear('pick-host', [place], { retry: retry.forEach(['h1', 'h2'], { provides: 'host' }) })
   */
  forEach(values: readonly unknown[], options: { provides: string }): RetryController {
    if (!Array.isArray(values) || values.length === 0) {
      throw new FlowDefinitionError(
        `Expected \`values\` of \`retry.forEach\` to be a non-empty array, got ${describe(values)}`,
      );
    }
    const provides = expectName('provides` of `retry.forEach', options?.provides);
    const frozen = Object.freeze([...values]);
    return controller({
      kind: 'forEach',
      provides,
      requires: undefined,
      // bigint is not JSON: show it as `7n` rather than letting JSON.stringify throw a TypeError.
      describe: `forEach(${JSON.stringify(frozen, (_key, v) => (typeof v === 'bigint' ? `${v}n` : v))} → ${provides})`,
      decide: (iteration) => (iteration + 1 < frozen.length ? 'RETRY' : 'REVERT'),
      valueAt: (iteration) => frozen[iteration],
    });
  },

  /**
   * Like forEach, but the values come from the run's stored data under `requires`.
   * @example linear('pick-host', [place], { retry: retry.parameterized({ requires: 'hosts', provides: 'host' }) })
   */
  parameterized(options: { requires: string; provides?: string }): RetryController {
    const requires = expectName('requires` of `retry.parameterized', options?.requires);
    // Without `provides`, the value is provided under the scope's (flow's) name, as TaskFlow names it after the retry.
    const provides =
      options.provides === undefined
        ? undefined
        : expectName('provides` of `retry.parameterized', options.provides);
    return controller({
      kind: 'parameterized',
      provides,
      requires,
      describe: `parameterized(${requires} → ${provides ?? '<scope>'})`,
      decide: (iteration, values) => (iteration + 1 < (values?.length ?? 0) ? 'RETRY' : 'REVERT'),
      valueAt: (iteration, values) => values?.[iteration],
    });
  },

  /** Revert the scope and fail outwards (an outer controller may still retry). */
  alwaysRevert(): RetryController {
    return controller({
      kind: 'alwaysRevert',
      provides: undefined,
      requires: undefined,
      describe: 'alwaysRevert',
      decide: () => 'REVERT',
      valueAt: () => undefined,
    });
  },

  /** Revert the whole run, whatever outer controllers would say. */
  alwaysRevertAll(): RetryController {
    return controller({
      kind: 'alwaysRevertAll',
      provides: undefined,
      requires: undefined,
      describe: 'alwaysRevertAll',
      decide: () => 'REVERT_ALL',
      valueAt: () => undefined,
    });
  },
};

function controller(c: RetryController): RetryController {
  return Object.freeze(c);
}

import { FlowDefinitionError } from '../errors.js';
import { describe, expectName, expectNames, expectNumber, expectRecord } from './options.js';
import type { Args, Task, TaskOptions } from './types.js';

/**
 * Define a task: plain code with an undo. Validated at once; nothing runs until a flow is started.
 *
 * @example
 * const allocateIp = task({
 *   name: 'allocate-ip',
 *   requires: ['network'],
 *   provides: 'ip',
 *   async execute({ network }, ctx) { return ipam.allocate(network, { key: ctx.idempotencyKey }); },
 *   async revert({ result }) { if (result) await ipam.release(result); },
 * });
 */
export function task<A extends Args = Args, R = unknown>(options: TaskOptions<A, R>): Task<A, R> {
  if (options === null || typeof options !== 'object') {
    throw new FlowDefinitionError(`Expected task options to be an object, got ${describe(options)}`);
  }
  const name = expectName('name', options.name);
  if (/[.#]/.test(name)) {
    // Task names become XState state keys, where `.` and `#` address other states.
    throw new FlowDefinitionError(`Expected a task name without \`.\` or \`#\`, got \`${name}\``);
  }
  if (typeof options.execute !== 'function') {
    throw new FlowDefinitionError(
      `Expected \`execute\` of task \`${name}\` to be a function, got ${describe(options.execute)}`,
    );
  }
  if (options.revert !== undefined && typeof options.revert !== 'function') {
    throw new FlowDefinitionError(
      `Expected \`revert\` of task \`${name}\` to be a function, got ${describe(options.revert)}`,
    );
  }
  const requires = expectNames(`requires\` of task \`${name}`, options.requires);
  const optional = expectNames(`optional\` of task \`${name}`, options.optional);
  const provides = expectNames(`provides\` of task \`${name}`, options.provides);
  const rebind = expectRecord(`rebind\` of task \`${name}`, options.rebind) as Record<string, string>;
  for (const [arg, from] of Object.entries(rebind)) expectName(`rebind.${arg}\` of task \`${name}`, from);
  const inject = expectRecord(`inject\` of task \`${name}`, options.inject);
  const retry = options.retry ?? { attempts: 1 };
  expectRecord(`retry\` of task \`${name}`, retry);
  const attempts = expectNumber(`retry.attempts\` of task \`${name}`, retry.attempts ?? 1, 1, true);
  const backoffMs = expectNumber(`retry.backoffMs\` of task \`${name}`, retry.backoffMs ?? 0, 0);
  const factor = expectNumber(`retry.factor\` of task \`${name}`, retry.factor ?? 2, 1);
  const maxBackoffMs = expectNumber(
    `retry.maxBackoffMs\` of task \`${name}`,
    retry.maxBackoffMs ?? 60_000,
    0,
  );
  const timeoutMs =
    options.timeoutMs === undefined
      ? undefined
      : expectNumber(`timeoutMs\` of task \`${name}`, options.timeoutMs, 1);
  const queue =
    options.queue === undefined ? 'default' : expectName(`queue\` of task \`${name}`, options.queue);
  const clash = requires.find((arg) => optional.includes(arg));
  if (clash) {
    throw new FlowDefinitionError(
      `Expected \`${clash}\` of task \`${name}\` in either requires or optional, got it in both`,
    );
  }
  return Object.freeze({
    kind: 'task',
    name,
    requires,
    optional,
    provides,
    rebind: Object.freeze({ ...rebind }),
    inject: Object.freeze({ ...inject }),
    retry: Object.freeze({ attempts, backoffMs, factor, maxBackoffMs }),
    timeoutMs,
    queue,
    execute: options.execute,
    revert: options.revert,
  }) as Task<A, R>;
}

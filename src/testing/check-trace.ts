import { compile } from '../compile/compile.js';
import type { Flow } from '../flow/types.js';
import type { RunStatus } from '../model/run-status.js';
import type { TraceEvent } from './call-gate.js';

/** One execution of a task, from its first attempt until it is reverted (or the run ends). */
interface Epoch {
  /** Trace position of its first start. */
  since: number;
  attempts: number;
  running: boolean;
  /** How the last attempt ended. */
  ok: boolean | undefined;
  revert: 'none' | 'running' | 'done' | 'failed';
}

/**
 * Check the engine's invariants on the trace of one run (the calls, in the order they happened):
 * - a task starts only after every dependency succeeded (and was not reverted since);
 * - a task is re-executed only by its own per-task retry, or after it was reverted (a retry scope);
 * - only a task that ran is reverted, once per execution, never while it or a dependent runs, and only
 *   after every dependent that ran since was reverted; a failed revert stops its dependencies' reverts;
 * - when the run ends, nothing is running; on `SUCCESS` nothing was left failed or reverted; otherwise
 *   everything that ran was reverted, except what a failed revert protects; `FAILURE` iff a revert failed.
 * Returns the violations found, as sentences; none means the trace is sound.
 *
 * @example
 * expect(checkTrace(flow, gate.trace, run.status)).toEqual([]);
 */
export function checkTrace(flow: Flow, trace: readonly TraceEvent[], status: RunStatus): string[] {
  const { graph } = compile(flow);
  const violations: string[] = [];
  const epochs = new Map<string, Epoch>();
  const node = (task: string) => {
    const found = graph.byName.get(task);
    if (!found) throw new Error(`Task \`${task}\` is not part of flow \`${graph.name}\``);
    return found;
  };

  trace.forEach((event, at) => {
    const { task } = event;
    const current = epochs.get(task);
    if (event.kind === 'execute' && event.at === 'start') {
      for (const dep of node(task).deps) {
        const d = epochs.get(dep);
        if (!d || d.running || d.ok !== true)
          violations.push(`\`${task}\` started before its dependency \`${dep}\` succeeded`);
        else if (d.revert !== 'none')
          violations.push(`\`${task}\` started after its dependency \`${dep}\` was reverted`);
      }
      if (current?.running) violations.push(`\`${task}\` started while it was already running`);
      const retrying =
        current !== undefined &&
        current.revert === 'none' &&
        current.ok === false &&
        current.attempts < node(task).task.retry.attempts;
      if (retrying) {
        current.attempts += 1;
        current.running = true;
        return;
      }
      if (current && current.revert !== 'done')
        violations.push(`\`${task}\` executed again without being reverted`);
      epochs.set(task, { since: at, attempts: 1, running: true, ok: undefined, revert: 'none' });
      return;
    }
    if (!current) {
      if (event.at === 'start') violations.push(`\`${task}\` was reverted but never ran`);
      return;
    }
    if (event.at === 'end' && event.kind === 'execute') {
      current.running = false;
      current.ok = event.ok;
      return;
    }
    if (event.at === 'end') {
      current.revert = event.ok ? 'done' : 'failed';
      return;
    }
    if (current.revert !== 'none') {
      violations.push(
        `\`${task}\` was reverted ${current.revert === 'failed' ? 'again after its revert failed' : 'twice'}`,
      );
      return;
    }
    if (current.running) violations.push(`\`${task}\` was reverted while it was running`);
    for (const dependent of node(task).dependents) {
      const d = epochs.get(dependent);
      if (!d || d.since < current.since || d.revert === 'done') continue;
      violations.push(
        d.revert === 'failed'
          ? `\`${task}\` was reverted although the revert of its dependent \`${dependent}\` failed`
          : `\`${task}\` was reverted before its dependent \`${dependent}\`${d.running ? ' finished running' : ' was reverted'}`,
      );
    }
    current.revert = 'running';
  });

  // A failed revert protects every task it depends on (transitively) that ran before it.
  const protectedBy = new Map<string, string>();
  for (const [task, epoch] of epochs) {
    if (epoch.revert !== 'failed') continue;
    const stack = [...node(task).deps];
    while (stack.length > 0) {
      const dep = stack.pop()!;
      if (protectedBy.has(dep)) continue;
      protectedBy.set(dep, task);
      stack.push(...node(dep).deps);
    }
  }
  const revertFailed = [...epochs].filter(([, e]) => e.revert === 'failed').map(([t]) => t);
  for (const [task, epoch] of epochs) {
    if (epoch.running) violations.push(`\`${task}\` was still running when the run ended ${status}`);
    if (epoch.revert === 'running')
      violations.push(`\`${task}\` was still reverting when the run ended ${status}`);
    if (status === 'SUCCESS') {
      if (epoch.ok === false) violations.push(`the run ended SUCCESS although \`${task}\` failed`);
      if (epoch.revert !== 'none') violations.push(`the run ended SUCCESS although \`${task}\` was reverted`);
    } else if (epoch.revert === 'none' && !protectedBy.has(task)) {
      violations.push(`\`${task}\` ran but was not reverted (the run ended ${status})`);
    }
  }
  if (status === 'REVERTED' && revertFailed.length > 0) {
    violations.push(
      `the run ended REVERTED although the revert of ${revertFailed.map((t) => `\`${t}\``).join(', ')} failed`,
    );
  }
  if (status === 'FAILURE' && revertFailed.length === 0)
    violations.push('the run ended FAILURE although no revert failed');
  return violations;
}

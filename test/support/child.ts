import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLineProcess } from './line-process.js';
import { REDIS_URL } from './redis.js';

const CHILD = fileURLToPath(new URL('./run-child.ts', import.meta.url));

export type ChildScenario = 'execute' | 'revert' | 'wide' | 'events';

/** test/support/run-child.ts running in its own process, read line by line. */
export interface Child {
  process: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /**
   * Resolves with the first line (seen already or to come) for which `match` is true; rejects if the
   * child prints an `UNEXPECTED` line or exits first.
   */
  waitForLine(match: (line: string, index: number) => boolean): Promise<string>;
  /** SIGKILL it (if still alive) and wait for it to be gone. */
  kill(): Promise<void>;
}

/**
 * Spawn the child (`startLineProcess`): a line starting with `UNEXPECTED` fails every wait.
 *
 * @example
 * const child = startChild(prefix, 'run-1', 'execute');
 * await child.waitForLine((line) => line.startsWith('HANGING'));
 * await child.kill();
 */
export function startChild(
  prefix: string,
  runId: string,
  scenario: ChildScenario,
  ...extra: string[]
): Child {
  const child = startLineProcess(CHILD, [REDIS_URL, prefix, runId, scenario, ...extra], {
    name: 'child',
    fails: (line) => line.startsWith('UNEXPECTED'),
  });
  return { process: child.process, lines: child.lines, waitForLine: child.waitForLine, kill: child.kill };
}

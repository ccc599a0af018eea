import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { REDIS_URL } from './redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./run-child.ts', import.meta.url));

export type ChildScenario = 'execute' | 'revert' | 'events';

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
 * Spawn the child with `node --import tsx` (the tsx loader on Node 20.6+), in the repository root.
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
  const args = [CHILD, REDIS_URL, prefix, runId, scenario, ...extra];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: string[] = [];
  const waiters = new Set<{
    match: (line: string, index: number) => boolean;
    resolve(line: string): void;
    reject(e: Error): void;
  }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) {
      if (line.startsWith('UNEXPECTED')) waiter.reject(new Error(`child said: ${line}`));
      else if (waiter.match(line, lines.length - 1)) waiter.resolve(line);
      else continue;
      waiters.delete(waiter);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const waiter of waiters) {
      waiter.reject(new Error(`child exited (${child.exitCode ?? child.signalCode}) first: ${stderr}`));
    }
    waiters.clear();
  });
  return {
    process: child,
    lines,
    waitForLine(match) {
      const index = lines.findIndex(match);
      if (index >= 0) return Promise.resolve(lines[index]!);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`child exited (${child.exitCode ?? child.signalCode}): ${stderr}`));
      }
      return new Promise((resolve, reject) => waiters.add({ match, resolve, reject }));
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

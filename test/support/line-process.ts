import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A TypeScript module running in a process of its own (`node --import tsx`), its stdout read line by line. */
export interface LineProcess {
  process: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** Everything it wrote to stderr so far (for failure messages). */
  stderr(): string;
  /**
   * Resolves with the first line (seen already or to come) for which `match` is true; rejects when the
   * process exits first, or when a line for which `fails` is true comes first.
   */
  waitForLine(match: (line: string, index: number) => boolean): Promise<string>;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  alive(): boolean;
  /** SIGKILL it (if still alive) and wait for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM it (if still alive) and wait for it to be gone. */
  stop(): Promise<void>;
}

/**
 * Spawn `script` with `node --import tsx` in the repository root.
 *
 * @example
 * const child = startLineProcess(script, [REDIS_URL, prefix], { name: 'worker w1' });
 * await child.waitForLine((line) => line.startsWith('READY'));
 * await child.kill();
 */
export function startLineProcess(
  script: string,
  args: readonly string[],
  options: { name?: string; fails?: (line: string) => boolean } = {},
): LineProcess {
  const name = options.name ?? script;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
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
    reject(error: Error): void;
  }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) {
      if (options.fails?.(line)) waiter.reject(new Error(`${name} said: ${line}`));
      else if (waiter.match(line, lines.length - 1)) waiter.resolve(line);
      else continue;
      waiters.delete(waiter);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const gone = () => `${name} exited (${child.exitCode ?? child.signalCode})`;
  void exited.then(() => {
    for (const waiter of waiters) waiter.reject(new Error(`${gone()} first: ${stderr}`));
    waiters.clear();
  });
  const signal = async (kind: NodeJS.Signals) => {
    if (alive()) {
      child.kill(kind);
      await exited;
    }
  };
  return {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    alive,
    waitForLine(match) {
      const index = lines.findIndex(match);
      if (index >= 0) return Promise.resolve(lines[index]!);
      if (!alive()) return Promise.reject(new Error(`${gone()}: ${stderr}`));
      return new Promise((resolve, reject) => waiters.add({ match, resolve, reject }));
    },
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}

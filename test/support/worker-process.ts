import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Behaviour } from './flows.js';
import { REDIS_URL } from './redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER_CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
/** test/support/starter-child.ts: an engine that starts one distributed run, then waits to be killed. */
export const STARTER = fileURLToPath(new URL('./starter-child.ts', import.meta.url));

/** test/support/worker-child.ts in a process of its own, read line by line. */
export interface WorkerProcess {
  label: string;
  process: ChildProcess;
  lines: string[];
  /** Resolves with the first line (seen or to come) matching; rejects if the process exits first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** SIGKILL (if alive) and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM: the worker closes (held tasks finish); resolves on exit. */
  stop(): Promise<void>;
  readonly exited: Promise<void>;
}

export function startWorkerProcess(
  prefix: string,
  label: string,
  behaviour: Omit<Behaviour, 'onHang' | 'before' | 'label'> & { delayMs?: number } = {},
  options: Record<string, unknown> = {},
  /** Which structures of `provision` it knows (see worker-child.ts). */
  provisionVersions: readonly string[] = ['1'],
  /** A Redis URL, or `cluster:<port>,<port>,…` for a Redis Cluster on 127.0.0.1. */
  redis: string = REDIS_URL,
): WorkerProcess {
  return startProcess(
    WORKER_CHILD,
    [
      redis,
      prefix,
      label,
      JSON.stringify(behaviour),
      JSON.stringify(options),
      JSON.stringify(provisionVersions),
    ],
    label,
  );
}

/** A TypeScript module run with `node --import tsx` in the repository root, read line by line. */
export function startProcess(script: string, args: readonly string[], label = script): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve(l: string): void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters) {
      if (!waiter.match(line)) continue;
      waiters.delete(waiter);
      waiter.resolve(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    label,
    process: child,
    lines,
    exited,
    waitForLine(match) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      if (!alive()) return Promise.reject(new Error(`worker ${label} exited: ${stderr}`));
      return new Promise((resolve, reject) => {
        waiters.add({ match, resolve });
        void exited.then(() => reject(new Error(`worker ${label} exited first: ${stderr}`)));
      });
    },
    async kill() {
      if (alive()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (alive()) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

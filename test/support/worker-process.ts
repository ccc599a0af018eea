import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Behaviour } from './flows.js';
import { startLineProcess } from './line-process.js';
import { REDIS_URL } from './redis.js';

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
  const child = startLineProcess(script, args, { name: `worker ${label}` });
  return {
    label,
    process: child.process,
    lines: child.lines,
    exited: child.exited.then(() => {}),
    waitForLine: (match) => child.waitForLine((line) => match(line)),
    kill: child.kill,
    stop: child.stop,
  };
}

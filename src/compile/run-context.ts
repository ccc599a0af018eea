import type { FailureRecord } from '../model/failure-record.js';
import type { RunPhase, RunStatus } from '../model/run-status.js';
import type { TaskState } from '../model/task-states.js';
import { initialGroups, type TaskGroups } from './task-records.js';

/**
 * The machine's context: everything a run knows, as plain data (it is persisted with each snapshot).
 * Values (inputs, results) are kept encoded by the codec, so the snapshot is JSON as it stands.
 */
export interface TaskRecord {
  /** State, mirrored from the task's region so the scheduler reads one place. */
  s: TaskState;
  /** Attempt number of the current or last execution (1-based). */
  a: number;
  /** Encoded result, once SUCCESS. */
  r?: unknown;
  /** Last failure of execute (or of revert, in REVERT_FAILURE). */
  f?: FailureRecord;
  /** Backoff deadline (epoch ms) while RETRYING. */
  at?: number;
  /** When its last execute or revert started (epoch ms, from the event that started it). */
  st?: number;
  /** When its last execute or revert ended (epoch ms, from the actor's outcome). */
  ft?: number;
}

export interface RunFailure {
  task: string;
  failure: FailureRecord;
}

export type Phase = RunPhase;

export interface RunContext {
  runId: string;
  /** Encoded run inputs. */
  inputs: Record<string, unknown>;
  /** Task records in groups (see task-records.ts): `tasks[group][name]`. Never changed in place. */
  tasks: TaskGroups;
  /** Retry scope name → iteration (0 for the first run of the scope). */
  scopes: Record<string, number>;
  status: RunStatus;
  phase: Phase;
  /** The scope being reverted for a retry, while phase is 'retry'. */
  retryScope: string | null;
  suspended: boolean;
  cancelled: boolean;
  /** 0 means no limit. */
  concurrency: number;
  /** Tasks in a busy state (RUNNING, RETRYING, REVERTING). */
  busy: number;
  /** Tasks SUCCESS or IGNORED. */
  settled: number;
  /**
   * Always empty now. Busy tasks per lane, when flows of more than 32 chains shared lanes; such flows
   * compile to the spawned shape since. Kept so the context, and runs stored with it, keep their shape.
   */
  laneBusy: number[];
  /** Ready tasks waiting for a concurrency slot (to execute or to revert, by phase). */
  queue: string[];
  failures: RunFailure[];
  revertFailures: RunFailure[];
}

export interface RunInput {
  runId: string;
  inputs: Record<string, unknown>;
  concurrency?: number;
  /** When the run starts (epoch ms): the time of its first transition, which reads no clock. @default 0 */
  at?: number;
}

export function initialContext(
  taskNames: readonly string[],
  scopeNames: readonly string[],
  input: RunInput,
): RunContext {
  const tasks = initialGroups(taskNames);
  const scopes: Record<string, number> = {};
  for (const name of scopeNames) scopes[name] = 0;
  return {
    runId: input.runId,
    inputs: input.inputs,
    tasks,
    scopes,
    status: 'RUNNING',
    phase: 'run',
    retryScope: null,
    suspended: false,
    cancelled: false,
    concurrency: input.concurrency ?? 0,
    busy: 0,
    settled: 0,
    laneBusy: [],
    queue: [],
    failures: [],
    revertFailures: [],
  };
}

import type { CompiledFlow } from '../compile/compile.js';
import type { RunContext, TaskRecord } from '../compile/run-context.js';
import type { TaskState } from '../compile/task-states.js';
import { SnapshotCorruptError } from '../errors.js';
import { decodeValue } from '../store/codec.js';
import { fromFailureRecord } from '../store/failure-record.js';
import type { RunMeta, StoredRun } from '../store/store.js';
import { FAILURES_PART } from './snapshot-parts.js';

/** A stored run as the CLI, a dashboard or an operator reads it. */
export interface RunInfo {
  meta: RunMeta;
  /** Current fencing token and stored version. */
  token: number;
  seq: number;
  tasks: Record<string, { state: TaskState; attempt: number; result?: unknown; error?: Error }>;
  /** Values provided so far (all of them once SUCCESS). */
  results: Record<string, unknown>;
  failures: { task: string; error: Error }[];
  revertFailures: { task: string; error: Error }[];
}

/** Read a stored run without its flow's code (per-task data comes from the stored parts). */
export function readRun(stored: StoredRun, compiled: CompiledFlow | undefined): RunInfo {
  const id = stored.meta.id;
  const listsText = stored.parts[FAILURES_PART];
  const lists =
    listsText === undefined
      ? undefined
      : (safeParse(id, listsText) as Pick<RunContext, 'failures' | 'revertFailures'>);
  const tasks: RunInfo['tasks'] = {};
  for (const [part, text] of Object.entries(stored.parts)) {
    if (!part.startsWith('t:')) continue;
    const record = safeParse(id, text) as TaskRecord;
    tasks[part.slice(2)] = {
      state: record.s,
      attempt: record.a,
      ...(record.r !== undefined ? { result: decodeValue(record.r) } : {}),
      ...(record.f ? { error: fromFailureRecord(record.f) } : {}),
    };
  }
  const results: Record<string, unknown> = {};
  if (compiled) {
    for (const [name, source] of compiled.graph.outputs) {
      if (source.kind !== 'task') continue;
      const task = tasks[source.task];
      if (task?.state !== 'SUCCESS') continue;
      results[name] =
        source.key === undefined ? task.result : (task.result as Record<string, unknown>)?.[source.key];
    }
  }
  const failures = (list: RunContext['failures'] | undefined) =>
    (list ?? []).map(({ task, failure }) => ({ task, error: fromFailureRecord(failure) }));
  return {
    meta: stored.meta,
    token: stored.token,
    seq: stored.seq,
    tasks,
    results,
    failures: failures(lists?.failures),
    revertFailures: failures(lists?.revertFailures),
  };
}

function safeParse(runId: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SnapshotCorruptError(runId, `a part is not taskweave data (${(error as Error).message})`);
  }
}

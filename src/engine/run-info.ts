import type { CompiledFlow } from '../compile/compile.js';
import type { RunContext, TaskRecord } from '../compile/run-context.js';
import { groupsFrom } from '../compile/task-records.js';
import { SnapshotCorruptError, type TaskFailure } from '../errors.js';
import { decodeValue } from '../model/codec.js';
import { fromFailureRecord } from '../model/failure-record.js';
import type { FlowStructure } from '../model/flow-structure.js';
import { taskOfPart } from '../model/names.js';
import { TASK_STATES, type TaskState } from '../model/task-states.js';
import type { RunMeta, StoredRun } from '../store/store.js';
import { CORE_PART, FAILURES_PART, INPUTS_PART, parsePart } from './snapshot-parts.js';

/** A stored run as the CLI, a dashboard or an operator reads it. */
export interface RunInfo {
  meta: RunMeta;
  /** Current fencing token and stored version. */
  token: number;
  seq: number;
  tasks: Record<
    string,
    {
      state: TaskState;
      attempt: number;
      result?: unknown;
      error?: Error;
      /** When its last execute or revert started (epoch ms; a retried execute counts from its first attempt). */
      startedAt?: number;
      /** When its last execute or revert ended (epoch ms; absent while it runs). */
      finishedAt?: number;
    }
  >;
  /** Values provided so far (all of them once SUCCESS). */
  results: Record<string, unknown>;
  failures: { task: string; error: Error }[];
  revertFailures: { task: string; error: Error }[];
  /**
   * The flow's structure (tasks with requires/provides, edges, sub-flows, lanes), from the flow catalog
   * when this engine does not know the flow: draw it with `toMermaid(info.flow)` or `toDot(info.flow)`.
   * Absent only when the catalog lacks it (a run stored before the catalog existed).
   */
  flow?: FlowStructure;
}

/**
 * Read a stored run without its flow's code (per-task data comes from the stored parts). Without the
 * flow (the caller validated it with the flow when it had it) the parts are still checked for what
 * every run has: inputs, task records with a known state, and once started its core and task parts.
 */
export function readRun(
  stored: StoredRun,
  compiled: CompiledFlow | undefined,
  extra: { flow?: FlowStructure | undefined } = {},
): RunInfo {
  const id = stored.meta.id;
  const corrupt = (detail: string) => new SnapshotCorruptError(id, detail);
  if (stored.parts[INPUTS_PART] === undefined) throw corrupt(`part \`${INPUTS_PART}\` is missing`);
  const taskParts = Object.keys(stored.parts).filter((part) => taskOfPart(part) !== undefined);
  if (stored.parts[CORE_PART] !== undefined && taskParts.length === 0) {
    throw corrupt('the run has started but its task parts are missing');
  }
  const listsText = stored.parts[FAILURES_PART];
  const lists =
    listsText === undefined
      ? undefined
      : (parsePart(id, FAILURES_PART, listsText) as Pick<RunContext, 'failures' | 'revertFailures'>);
  const records: Record<string, TaskRecord> = {};
  const tasks: RunInfo['tasks'] = {};
  for (const [part, text] of Object.entries(stored.parts)) {
    const name = taskOfPart(part);
    if (name === undefined) continue;
    const record = parsePart(id, part, text) as TaskRecord | null;
    if (
      !record ||
      typeof record !== 'object' ||
      !TASK_STATES.includes(record.s) ||
      typeof record.a !== 'number'
    ) {
      throw corrupt(`task \`${name}\` has no valid record`);
    }
    records[name] = record;
    tasks[name] = {
      state: record.s,
      attempt: record.a,
      ...(record.r !== undefined ? { result: decodeValue(record.r) } : {}),
      ...(record.f ? { error: fromFailureRecord(record.f) } : {}),
      ...(record.st !== undefined ? { startedAt: record.st } : {}),
      ...(record.ft !== undefined ? { finishedAt: record.ft } : {}),
    };
  }
  return {
    meta: stored.meta,
    token: stored.token,
    seq: stored.seq,
    tasks,
    results: compiled ? runResults(compiled, records) : {},
    failures: taskFailures(lists?.failures ?? []),
    revertFailures: taskFailures(lists?.revertFailures ?? []),
    // The run's own name and version: runs of several versions with one structure share its record.
    ...(extra.flow
      ? {
          flow: {
            ...extra.flow,
            name: stored.meta.flow,
            version: stored.meta.version,
            hash: stored.meta.hash,
          },
        }
      : {}),
  };
}

/** The flow's outputs its succeeded tasks have provided (all of them once the run is SUCCESS). */
export function runResults(
  compiled: CompiledFlow,
  tasks: Record<string, TaskRecord>,
): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  const groups = groupsFrom(compiled.graph, tasks);
  for (const [name, source] of compiled.graph.outputs) {
    if (source.kind !== 'task' || tasks[source.task]?.s !== 'SUCCESS') continue;
    // Outputs read tasks' results only: the records are all the context they need.
    results[name] = compiled.scheduler.value({ tasks: groups } as RunContext, source);
  }
  return results;
}

/** Stored failure lists as the errors they were. */
export function taskFailures(list: RunContext['failures']): TaskFailure[] {
  return list.map(({ task, failure }) => ({ task, error: fromFailureRecord(failure) }));
}

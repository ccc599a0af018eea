import type { AnyMachineSnapshot } from 'xstate';
import type { CompiledFlow } from '../compile/compile.js';
import type { FlowGraph } from '../compile/flow-graph.js';
import { busyState, laneName } from '../compile/lanes.js';
import type { RunContext, TaskRecord } from '../compile/run-context.js';
import type { BusyState } from '../compile/task-machines.js';
import { groupsFrom, PENDING_RECORD, recordOf } from '../compile/task-records.js';
import { SnapshotCorruptError } from '../errors.js';
import {
  childPart,
  parseTaskActorId,
  TASK_ACTORS,
  TASK_MACHINE_SRC,
  taskActorId,
  taskPart,
} from '../model/names.js';
import { BUSY_STATES, TASK_STATES } from '../model/task-states.js';
import { RUN_STATUSES } from '../store/store.js';
import { childJson, headJson } from './persisted-snapshot.js';

/**
 * A persisted snapshot split into named parts, so a write carries only what changed and its size does
 * not grow with the flow: `core` (the snapshot without per-task records, child actors and inputs: lane
 * states, run fields), `inputs` (written once), and per task `t:<task>` (its record) and `c:<task>` (the
 * actor its busy state invokes, or null), written together when the task changes. Runs stored before
 * `c:` parts existed hold every child in `core`; they are read as they are and rewritten whole by their
 * next writer. Joining validates everything, so corrupt or foreign data surfaces as
 * `SnapshotCorruptError` for that run only.
 */
export const INPUTS_PART = 'inputs';
export const CORE_PART = 'core';
export const QUEUE_PART = 'queue';
export const FAILURES_PART = 'failures';
/** A distributed run's span ids (OpenTelemetry), written with its create for workers' spans; not part of the snapshot. */
export const TRACE_PART = 'trace';
export { taskPart } from '../model/names.js';

const PENDING_JSON = JSON.stringify(PENDING_RECORD);

type Persisted = { value: Record<string, unknown>; context: RunContext; [key: string]: unknown };

export interface SplitOptions {
  /**
   * Whether the queue and failure lists changed since they were last written (default: both, as on a
   * first write). They can be long (a wide flow's queue, failures with stacks) and change far less often
   * than the core, so they are parts of their own; the reducer says when a step replaced them.
   */
  lists?: { queue: boolean; failures: boolean };
  /**
   * A run's create: a task with no actor gets no `c:` part (an absent part reads as none), where a later
   * write stores `null` to replace the actor it had. A fan10's create then sends 10 parts fewer.
   */
  create?: boolean;
}

export function splitSnapshot(
  snapshot: AnyMachineSnapshot,
  graph: FlowGraph,
  tasks: Iterable<string>,
  { lists = { queue: true, failures: true }, create = false }: SplitOptions = {},
): Record<string, string> {
  // Inputs are written once, when the run is created.
  const {
    tasks: records,
    inputs: _inputs,
    queue,
    failures,
    revertFailures,
    ...contextRest
  } = snapshot.context as RunContext;
  // Values in the context and in task actors' inputs are already encoded by the codec: plain JSON here.
  const parts: Record<string, string> = { [CORE_PART]: headJson(snapshot, contextRest) };
  if (lists.queue) parts[QUEUE_PART] = JSON.stringify(queue);
  if (lists.failures) parts[FAILURES_PART] = JSON.stringify({ failures, revertFailures });
  for (const task of tasks) {
    const record = recordOf(graph, { tasks: records }, task);
    // A create stores every task, most of them still the one shared first record: its JSON is made once.
    parts[taskPart(task)] = record === PENDING_RECORD ? PENDING_JSON : JSON.stringify(record);
    // Only a busy task has an actor (joinSnapshot checks that they match).
    const child = BUSY_STATES.has(record.s) ? childJson(snapshot, task) : 'null';
    if (!create || child !== 'null') parts[childPart(task)] = child;
  }
  return parts;
}

/**
 * Whether a stored core still holds every child actor (written before `c:` parts existed): its next
 * write must then carry every task's parts, or the children of the tasks it does not change are lost.
 */
export function holdsChildren(parts: Record<string, string>): boolean {
  return parts[CORE_PART]?.includes('"historyValue":{},"children":') ?? false;
}

/** A stored part's JSON; anything else is `SnapshotCorruptError` for that run. */
export function parsePart(runId: string, name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SnapshotCorruptError(
      runId,
      `part \`${name}\` is not taskweave data (${(error as Error).message})`,
    );
  }
}

export function joinSnapshot(
  runId: string,
  compiled: Pick<CompiledFlow, 'graph' | 'lanes' | 'shape'>,
  parts: Record<string, string>,
): Persisted | undefined {
  const read = (name: string): unknown => {
    const text = parts[name];
    if (text === undefined) throw new SnapshotCorruptError(runId, `part \`${name}\` is missing`);
    return parsePart(runId, name, text);
  };
  const inputs = read(INPUTS_PART);
  if (inputs === null || typeof inputs !== 'object')
    throw new SnapshotCorruptError(runId, 'inputs are not an object');
  if (parts[CORE_PART] === undefined) return undefined; // created, never started: start afresh from the inputs
  const core = read(CORE_PART) as Partial<Persisted> & { context?: Partial<RunContext> };
  const queue = read(QUEUE_PART);
  const lists = read(FAILURES_PART) as { failures?: unknown; revertFailures?: unknown } | null;
  if (!lists || !Array.isArray(lists.failures) || !Array.isArray(lists.revertFailures)) {
    throw new SnapshotCorruptError(runId, 'the failures part does not hold the failure lists');
  }
  if (!Array.isArray(queue) || queue.some((t) => !compiled.graph.byName.has(t))) {
    throw new SnapshotCorruptError(runId, "the queue part is not a list of this flow's tasks");
  }
  const context = core?.context;
  if (
    !context ||
    typeof context !== 'object' ||
    context.runId !== runId ||
    !RUN_STATUSES.includes(context.status!)
  ) {
    throw new SnapshotCorruptError(runId, 'core part has no run context for this run');
  }
  // A stored run's actor is always active (its machine has no final state); XState would rehydrate an
  // `error` or `done` snapshot as a stopped actor, and the run would never settle.
  if (core.status !== 'active') {
    throw new SnapshotCorruptError(
      runId,
      `core part has snapshot status \`${String(core.status)}\`, not an active run`,
    );
  }
  const tasks: Record<string, TaskRecord> = {};
  for (const node of compiled.graph.tasks) {
    const record = read(taskPart(node.name)) as TaskRecord | null;
    if (
      !record ||
      typeof record !== 'object' ||
      !TASK_STATES.includes(record.s) ||
      typeof record.a !== 'number'
    ) {
      throw new SnapshotCorruptError(runId, `task \`${node.name}\` has no valid record`);
    }
    tasks[node.name] = record;
  }
  let value: Record<string, string>;
  let children: unknown =
    core.children === undefined ? childrenOf(runId, compiled.graph, parts) : core.children;
  if (compiled.shape === 'lanes') value = checkLanes(runId, compiled.lanes, core.value, tasks);
  else {
    // A wide run stored in lanes (by a release that ran wide flows so) continues as task machines: its
    // lanes are checked, then its task actors become task machines holding them. Its next write stores them so.
    if (!isEmptyValue(core.value)) checkLanes(runId, compiled.lanes, core.value, tasks);
    value = {};
    children = asTaskMachines(children, tasks);
  }
  checkChildren(runId, children, tasks, compiled.shape);
  return {
    ...core,
    value,
    children,
    context: {
      ...(context as RunContext),
      inputs: inputs as Record<string, unknown>,
      tasks: groupsFrom(compiled.graph, tasks),
      queue,
      failures: lists.failures as RunContext['failures'],
      revertFailures: lists.revertFailures as RunContext['revertFailures'],
    },
  } as Persisted;
}

/** The child actors stored in `c:<task>` parts, by id (a task without one has `null`, or no part). */
function childrenOf(runId: string, graph: FlowGraph, parts: Record<string, string>): Record<string, unknown> {
  const children: Record<string, unknown> = {};
  for (const node of graph.tasks) {
    const name = childPart(node.name);
    const text = parts[name];
    if (text === undefined) continue;
    const entry = parsePart(runId, name, text) as { id?: unknown } | null;
    if (entry === null) continue;
    const { id, ...child } = entry;
    if (typeof id !== 'string' || parseTaskActorId(id)?.task !== node.name) {
      throw new SnapshotCorruptError(runId, `part \`${name}\` holds no actor of task \`${node.name}\``);
    }
    children[id] = child;
  }
  return children;
}

const isEmptyValue = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && Object.keys(value).length === 0;

type StoredChild = { src?: unknown; snapshot?: unknown; [key: string]: unknown };

/**
 * Task actors stored by the lanes shape (their source is the actor's: `execute`, ...), as the spawned
 * shape's task machines (task-machines.ts) holding them.
 * Entries that already are task machines, and anything else, are left for checkChildren to judge.
 */
function asTaskMachines(children: unknown, tasks: Record<string, TaskRecord>): unknown {
  if (children === null || typeof children !== 'object' || Array.isArray(children)) return children;
  const upgraded: Record<string, unknown> = {};
  for (const [id, child] of Object.entries(children as Record<string, StoredChild | null>)) {
    const state = tasks[parseTaskActorId(id)?.task ?? '']?.s as BusyState | undefined;
    const actor = state && TASK_ACTORS[state];
    const snapshot = child?.snapshot as { input?: unknown } | null | undefined;
    if (!actor || child?.src !== actor.src || snapshot === null || typeof snapshot !== 'object') {
      upgraded[id] = child;
      continue;
    }
    upgraded[id] = {
      src: TASK_MACHINE_SRC[state],
      syncSnapshot: false,
      snapshot: {
        status: 'active',
        value: state,
        historyValue: {},
        context: {},
        children: { [actor.src]: child },
      },
    };
  }
  return upgraded;
}

/**
 * Each lane's state must name the one busy task of that lane and its state (`<task>:RUNNING`), or be
 * idle when none is busy. Returns the value as this release's machine has it: a lane stored by an
 * earlier release, where a task's busy states were nested (`{ <task>: 'RUNNING' }`), is read as the flat
 * state it now is.
 */
function checkLanes(
  runId: string,
  lanes: readonly (readonly string[])[],
  value: unknown,
  tasks: Record<string, TaskRecord>,
): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SnapshotCorruptError(runId, 'core part has no machine state value');
  }
  const regions = value as Record<string, unknown>;
  if (Object.keys(regions).length !== lanes.length) {
    throw new SnapshotCorruptError(
      runId,
      `core part has ${Object.keys(regions).length} lanes, the flow has ${lanes.length}`,
    );
  }
  const checked: Record<string, string> = {};
  lanes.forEach((lane, i) => {
    const state = regions[laneName(i)];
    const busy = lane.filter((t) => BUSY_STATES.has(tasks[t]!.s));
    const expected = busy.length === 0 ? 'idle' : busyState(busy[0]!, tasks[busy[0]!]!.s as BusyState);
    const got = typeof state === 'string' ? state : nestedBusyState(state);
    if (busy.length > 1 || got !== expected) {
      throw new SnapshotCorruptError(
        runId,
        `lane ${i} is in state ${JSON.stringify(state)} but its tasks' records say ${JSON.stringify(expected)}`,
      );
    }
    checked[laneName(i)] = expected;
  });
  return checked;
}

/** An earlier release's busy lane, `{ <task>: <state> }`, as the flat state it is now; else a mismatch. */
function nestedBusyState(state: unknown): string | undefined {
  if (state === null || typeof state !== 'object') return undefined;
  const entries = Object.entries(state);
  const [task, busy] = entries[0] ?? [];
  return entries.length === 1 && typeof busy === 'string' ? busyState(task!, busy as BusyState) : undefined;
}

/**
 * The children XState rehydrates must be exactly the actors the busy tasks invoke: an unknown one would
 * be looked up by a source name that is not ours, and a missing one would leave its task busy forever.
 */
function checkChildren(
  runId: string,
  children: unknown,
  tasks: Record<string, TaskRecord>,
  shape: CompiledFlow['shape'],
): void {
  if (children === null || typeof children !== 'object' || Array.isArray(children)) {
    throw new SnapshotCorruptError(runId, 'core part has no record of child actors');
  }
  const expected = new Map<string, string>();
  for (const [task, record] of Object.entries(tasks)) {
    const state = record.s as BusyState;
    const invoked = TASK_ACTORS[state];
    if (!invoked) continue;
    expected.set(
      taskActorId(invoked.prefix, task),
      shape === 'lanes' ? invoked.src : TASK_MACHINE_SRC[state],
    );
  }
  for (const [id, child] of Object.entries(
    children as Record<string, { src?: unknown; snapshot?: unknown }>,
  )) {
    if (expected.get(id) !== child?.src || child.snapshot === null || typeof child.snapshot !== 'object') {
      throw new SnapshotCorruptError(
        runId,
        `core part holds a child actor \`${id}\` that no task state invokes`,
      );
    }
    expected.delete(id);
  }
  for (const id of expected.keys()) {
    throw new SnapshotCorruptError(runId, `core part lacks the child actor \`${id}\` of a busy task`);
  }
}

import type { FlowGraph } from '../compile/flow-graph.js';
import type { RunContext, TaskRecord } from '../compile/run-context.js';
import { TASK_STATES } from '../compile/task-states.js';
import { SnapshotCorruptError } from '../errors.js';
import { parse, stringify } from '../store/codec.js';
import { RUN_STATUSES } from '../store/store.js';

/**
 * A persisted snapshot split into named parts, so a write carries only what changed:
 * `core` (the snapshot without per-task data and inputs), `inputs` (written once) and one
 * `t:<task>` part per task (its region's state and its record). Joining validates everything,
 * so corrupt or foreign data surfaces as `SnapshotCorruptError` for that run only.
 */
export const INPUTS_PART = 'inputs';
export const CORE_PART = 'core';
export const taskPart = (task: string) => `t:${task}`;

type Persisted = { value: Record<string, unknown>; context: RunContext; [key: string]: unknown };

export function splitSnapshot(
  snapshot: unknown,
  tasks: Iterable<string>,
  withInputs: boolean,
): Record<string, string> {
  const s = snapshot as Persisted;
  const { tasks: records, inputs, ...contextRest } = s.context;
  const { value, context: _context, ...rest } = s;
  const parts: Record<string, string> = { [CORE_PART]: stringify({ ...rest, context: contextRest }) };
  if (withInputs) parts[INPUTS_PART] = stringify(inputs);
  for (const task of tasks) parts[taskPart(task)] = stringify([value[task], records[task]]);
  return parts;
}

export function joinSnapshot(
  runId: string,
  graph: FlowGraph,
  parts: Record<string, string>,
): Persisted | undefined {
  const read = (name: string): unknown => {
    const text = parts[name];
    if (text === undefined) throw new SnapshotCorruptError(runId, `part \`${name}\` is missing`);
    try {
      return parse(text);
    } catch (error) {
      throw new SnapshotCorruptError(
        runId,
        `part \`${name}\` is not taskweave data (${(error as Error).message})`,
      );
    }
  };
  const inputs = read(INPUTS_PART);
  if (inputs === null || typeof inputs !== 'object')
    throw new SnapshotCorruptError(runId, 'inputs are not an object');
  if (parts[CORE_PART] === undefined) return undefined; // created, never started: start afresh from the inputs
  const core = read(CORE_PART) as Partial<Persisted> & { context?: Partial<RunContext> };
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
  const value: Record<string, unknown> = {};
  const tasks: Record<string, TaskRecord> = {};
  for (const node of graph.tasks) {
    const entry = read(taskPart(node.name));
    if (!Array.isArray(entry) || entry.length !== 2)
      throw new SnapshotCorruptError(runId, `task part of \`${node.name}\` has the wrong shape`);
    const [state, record] = entry as [unknown, TaskRecord];
    if (!TASK_STATES.includes(state as never) || !record || !TASK_STATES.includes(record.s)) {
      throw new SnapshotCorruptError(
        runId,
        `task \`${node.name}\` has an unknown state \`${String(state)}\``,
      );
    }
    value[node.name] = state;
    tasks[node.name] = record;
  }
  checkChildren(runId, core.children, value);
  return {
    ...core,
    value,
    context: { ...(context as RunContext), inputs: inputs as Record<string, unknown>, tasks },
  } as Persisted;
}

/** The actor each busy task state invokes (see `taskRegion` in compile.ts): id `<prefix>:<task>`, source. */
const INVOKED: Readonly<Record<string, readonly [prefix: string, src: string]>> = {
  RUNNING: ['execute', 'execute'],
  RETRYING: ['sleep', 'sleepUntil'],
  REVERTING: ['revert', 'revert'],
};

/**
 * The children XState rehydrates must be exactly the actors the busy tasks invoke: an unknown one would
 * be looked up by a source name that is not ours, and a missing one would leave its task busy forever.
 */
function checkChildren(runId: string, children: unknown, value: Record<string, unknown>): void {
  if (children === null || typeof children !== 'object' || Array.isArray(children)) {
    throw new SnapshotCorruptError(runId, 'core part has no record of child actors');
  }
  const expected = new Map<string, string>();
  for (const [task, state] of Object.entries(value)) {
    const invoked = INVOKED[state as string];
    if (invoked) expected.set(`${invoked[0]}:${task}`, invoked[1]);
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

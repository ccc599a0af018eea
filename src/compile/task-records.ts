import type { FlowGraph } from './flow-graph.js';
import type { RunContext, TaskRecord } from './run-context.js';

/**
 * A run's task records, grouped so that a transition copies only what it touches.
 *
 * Why groups: a transition must not change an earlier snapshot (transitions are pure), so a changed
 * record is a new object, and so is every container on its path. One flat map of 1,000 records costs
 * ~200 µs to copy (V8 keeps objects that large in dictionary mode); groups of at most GROUP_SIZE records
 * in topological order cost ~1 µs per change at 1,000 tasks and ~0.2 µs at 10 (measured on this machine
 * class, see the closing note of the pure-core issue).
 */
export const GROUP_SIZE = 32;

/** Records by group: `tasks[group][taskName]`; a task's group is its topological position / GROUP_SIZE. */
export type TaskGroups = readonly Readonly<Record<string, TaskRecord>>[];

export function groupOf(graph: FlowGraph, task: string): number {
  return Math.floor(graph.byName.get(task)!.order / GROUP_SIZE);
}

/** Every task PENDING, grouped. */
/**
 * Every task's first record: one frozen object shared by every task of every run, since records are
 * replaced, never changed (a change in place would throw). A fan10 run allocates ten records fewer.
 */
export const PENDING_RECORD: TaskRecord = Object.freeze({ s: 'PENDING', a: 0 }) as TaskRecord;

export function initialGroups(taskNames: readonly string[]): TaskGroups {
  const groups: Record<string, TaskRecord>[] = [];
  taskNames.forEach((name, i) => {
    const g = Math.floor(i / GROUP_SIZE);
    groups[g] ??= {};
    groups[g][name] = PENDING_RECORD;
  });
  return groups;
}

/** A task's record, found through the compiled graph (the engine's hot path). */
export function recordOf(graph: FlowGraph, context: Pick<RunContext, 'tasks'>, task: string): TaskRecord {
  return context.tasks[groupOf(graph, task)]![task]!;
}

/**
 * A task's record from the context alone, for tools that hold a snapshot but not the flow (an
 * inspector's snapshots, `transition()` results): a scan over at most a few dozen groups.
 *
 * @example findRecord(snapshot.context, 'attach')?.s // 'RUNNING'
 */
export function findRecord(context: Pick<RunContext, 'tasks'>, task: string): TaskRecord | undefined {
  for (const group of context.tasks) if (Object.hasOwn(group, task)) return group[task];
  return undefined;
}

/** All records in one map, by task name (a copy: for reading, not for the hot path). */
export function allRecords(context: Pick<RunContext, 'tasks'>): Record<string, TaskRecord> {
  return Object.assign({}, ...context.tasks) as Record<string, TaskRecord>;
}

/**
 * Copy-on-write of records within one transition: the first change to a group copies the group list
 * and that group; later changes in the same transition write into the copies.
 */
export class RecordWriter {
  private groups: Record<string, TaskRecord>[] | undefined;
  /** Groups copied in this transition: usually one, so a list beats a Set. */
  private readonly copied: number[] = [];

  constructor(
    private readonly graph: FlowGraph,
    private readonly draft: RunContext,
  ) {}

  get(task: string): TaskRecord {
    return recordOf(this.graph, this.draft, task);
  }

  /** Replace a task's record (records are never changed in place). */
  put(task: string, record: TaskRecord): void {
    const g = groupOf(this.graph, task);
    if (!this.groups) {
      this.groups = this.draft.tasks.slice() as Record<string, TaskRecord>[];
      this.draft.tasks = this.groups;
    }
    if (!this.copied.includes(g)) {
      this.groups[g] = { ...this.groups[g] };
      this.copied.push(g);
    }
    this.groups[g]![task] = record;
  }
}

/** Records by name (as stored, one part per task) put back into the context's groups. */
export function groupsFrom(graph: FlowGraph, records: Readonly<Record<string, TaskRecord>>): TaskGroups {
  const groups: Record<string, TaskRecord>[] = [];
  for (const node of graph.tasks) {
    const record = records[node.name];
    if (record === undefined) continue;
    const g = Math.floor(node.order / GROUP_SIZE);
    groups[g] ??= {};
    groups[g][node.name] = record;
  }
  return groups;
}

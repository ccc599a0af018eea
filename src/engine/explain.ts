import type { CompiledFlow } from '../compile/compile.js';
import type { RunContext, TaskRecord } from '../compile/run-context.js';
import type { FailureRecord } from '../model/failure-record.js';
import { taskOfPart } from '../model/names.js';
import type { RunStatus } from '../model/run-status.js';
import type { StoredRun } from '../store/store.js';
import { CORE_PART, FAILURES_PART, parsePart, QUEUE_PART } from './snapshot-parts.js';
import { clock } from './time-text.js';

/** Why a run (or one of its tasks) is not done yet. */
export type WaitReason =
  | 'running'
  | 'retry-backoff'
  | 'dependencies'
  | 'concurrency-limit'
  | 'suspended'
  | 'reverting';

export interface WaitingOn {
  /** Absent for run-level reasons (`suspended`, `reverting`). */
  task?: string;
  reason: WaitReason;
  /** Epoch ms: when a running task started (when the store knows it) or the run was suspended. */
  since?: number;
  /** Epoch ms: when a task in backoff is executed again. */
  until?: number;
  /** The attempt running, or the one that comes after the backoff. */
  attempt?: number;
  /** Executions allowed in all, when the explaining engine knows the flow. */
  attempts?: number;
  /** The failure that put a task in backoff. */
  error?: { name: string; message: string };
  /** For `dependencies`: the tasks it waits for (when the structure is known). */
  on?: string[];
  /** Distributed runs: the queue of a running (or reverting) task that no live worker reads. */
  unservedQueue?: string;
  /**
   * Distributed runs: the task was passed on by workers that do not know its run's flow structure and
   * waits (in `unservedQueue`) for a worker that knows this one.
   */
  needsFlow?: { flow: string; version: string; hash: string };
}

/** Distributed runs: where a busy task's message waits with no live worker to take it. */
export interface UnservedTask {
  queue: string;
  /** Set when it waits for a worker that knows the run's flow structure (a version queue). */
  needsFlow?: { flow: string; version: string; hash: string };
}

/** What a run waits on, as data and as sentences an operator can act on. */
export interface Explanation {
  runId: string;
  status: RunStatus;
  /** The engine that holds (or last held) the run. */
  owner?: string;
  waitingOn: WaitingOn[];
  /** One sentence per line. */
  text: string;
}

/** What explain needs to know of a flow's structure: direct dependencies and per-task attempts. */
export interface FlowShape {
  deps(task: string): readonly string[] | undefined;
  attempts(task: string): number | undefined;
}

/** The shape of a compiled flow (when the explaining engine knows the run's flow). */
export function shapeOf(compiled: Pick<CompiledFlow, 'graph'>): FlowShape {
  return {
    deps: (task) => compiled.graph.byName.get(task)?.deps,
    attempts: (task) => compiled.graph.byName.get(task)?.task.retry.attempts,
  };
}

/** The shape of a flow given as edges only (a catalog entry, read without the flow's code). */
export function shapeOfEdges(edges: readonly (readonly [string, string])[]): FlowShape {
  const deps = new Map<string, string[]>();
  for (const [from, to] of edges) deps.set(to, [...(deps.get(to) ?? []), from]);
  return { deps: (task) => deps.get(task) ?? [], attempts: () => undefined };
}

/** At most this many tasks waiting on dependencies get a sentence each; the rest are counted. */
const MAX_DEPENDENCY_LINES = 10;
const DONE: ReadonlySet<string> = new Set(['SUCCESS', 'IGNORED']);

/**
 * Explain a stored run from its data alone: the flow's code is not needed (with a `shape`, the
 * sentences also name dependencies and attempt limits). `now` is only used for relative times.
 * Stored data that is not a run surfaces as `SnapshotCorruptError`.
 */
export function explainRun(
  stored: StoredRun,
  {
    shape,
    now = Date.now(),
    unserved,
  }: {
    shape?: FlowShape | undefined;
    now?: number;
    /** Distributed runs: where the task's message waits when no live worker can take it. */
    unserved?: ((task: string) => UnservedTask | undefined) | undefined;
  } = {},
): Explanation {
  const { meta } = stored;
  const id = meta.id;
  const read = (part: string): unknown => {
    const text = stored.parts[part];
    return text === undefined ? undefined : parsePart(id, part, text);
  };
  const core = read(CORE_PART) as { context?: Partial<RunContext> } | undefined;
  const context = core?.context ?? {};
  const queue = (read(QUEUE_PART) as string[] | undefined) ?? [];
  const lists = read(FAILURES_PART) as Pick<RunContext, 'failures' | 'revertFailures'> | undefined;
  const tasks: Record<string, TaskRecord & { startedAt?: number }> = {};
  for (const [part, text] of Object.entries(stored.parts)) {
    const name = taskOfPart(part);
    if (name === undefined) continue;
    const record = parsePart(id, part, text) as TaskRecord;
    tasks[name] = { ...record, ...(record.st !== undefined ? { startedAt: record.st } : {}) };
  }

  const waitingOn: WaitingOn[] = [];
  const lines: string[] = [];
  const owner = meta.owner !== undefined ? ` by ${meta.owner}` : '';
  const status = meta.status;
  const failures = lists?.failures ?? [];

  if (status === 'SUCCESS' || status === 'REVERTED' || status === 'FAILURE') {
    lines.push(
      `Run ${id} (${meta.flow}) ended ${status} at ${clock(meta.updatedAt, now)}: it waits on nothing.`,
    );
    for (const { task, failure } of failures) lines.push(`${task} failed: ${oneLine(failure)}.`);
    for (const { task, failure } of lists?.revertFailures ?? []) {
      lines.push(`${task} could not be reverted: ${oneLine(failure)}. Undo its effect by hand.`);
    }
    return result();
  }
  if (core === undefined) {
    lines.push(
      `Run ${id} (${meta.flow}) was created at ${clock(meta.createdAt, now)}${owner} and has not started a task yet.`,
    );
    return result();
  }
  if (status === 'SUSPENDED') {
    waitingOn.push({ reason: 'suspended', since: meta.updatedAt });
    lines.push(
      `Run ${id} (${meta.flow}) is suspended since ${clock(meta.updatedAt, now)}: nothing runs until an engine resumes it.`,
    );
  } else {
    lines.push(
      `Run ${id} (${meta.flow}) is ${status}, held${owner || ' by no engine'}, last stored change at ${clock(meta.updatedAt, now)}.`,
    );
  }
  const reverting = context.phase === 'revert' || status === 'REVERTING';
  if (reverting) {
    waitingOn.push({ reason: 'reverting', since: meta.updatedAt });
    const first = failures[0];
    const why = context.cancelled
      ? 'it was cancelled'
      : first
        ? `${first.task} failed with ${oneLine(first.failure)}`
        : 'an operator asked for it';
    lines.push(`The run is reverting because ${why}; tasks that ran are undone in reverse order.`);
  } else if (context.suspended && status !== 'SUSPENDED') {
    waitingOn.push({ reason: 'suspended' });
    lines.push('The run is suspending: running tasks finish, then it is stored as SUSPENDED.');
  }
  if (context.phase === 'retry' && context.retryScope) {
    lines.push(`Scope ${context.retryScope} is being reverted to be run again by its retry controller.`);
  }

  for (const [task, rec] of Object.entries(tasks)) {
    const attempts = shape?.attempts(task);
    const of = attempts !== undefined && attempts > 1 ? ` of ${attempts}` : '';
    if (rec.s === 'RUNNING') {
      waitingOn.push({
        task,
        reason: 'running',
        attempt: rec.a,
        ...(rec.startedAt !== undefined ? { since: rec.startedAt } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
      });
      const since = rec.startedAt !== undefined ? ` since ${clock(rec.startedAt, now)}` : '';
      lines.push(`${task}: attempt ${rec.a}${of} is running${since}.`);
      noWorker(task, waitingOn.at(-1)!);
    } else if (rec.s === 'RETRYING') {
      // While RETRYING, a task's record still counts the attempt that failed.
      const failed = rec.a;
      waitingOn.push({
        task,
        reason: 'retry-backoff',
        attempt: failed + 1,
        ...(rec.at !== undefined ? { until: rec.at } : {}),
        ...(attempts !== undefined ? { attempts } : {}),
        ...(rec.f ? { error: { name: rec.f.name, message: rec.f.message } } : {}),
      });
      const error = rec.f ? ` failed with ${oneLine(rec.f)}` : ' failed';
      const next = rec.at !== undefined ? `, next attempt at ${clock(rec.at, now)}` : ', next attempt soon';
      lines.push(`${task}: attempt ${failed}${of}${error}${next}.`);
    } else if (rec.s === 'REVERTING') {
      waitingOn.push({ task, reason: 'reverting' });
      lines.push(`${task}: its revert is running.`);
      noWorker(task, waitingOn.at(-1)!);
    }
  }

  const limit = context.concurrency ?? 0;
  for (const task of queue) {
    waitingOn.push({ task, reason: 'concurrency-limit' });
    const what = reverting ? 'its revert is ready' : 'ready';
    lines.push(
      `${task}: ${what}, waiting for a free slot (${context.busy ?? '?'} of at most ${limit} tasks of this run are busy).`,
    );
  }

  if (!reverting && status !== 'SUSPENDED') {
    const queued = new Set(queue);
    let described = 0;
    let more = 0;
    for (const [task, rec] of Object.entries(tasks)) {
      if (rec.s !== 'PENDING' || queued.has(task)) continue;
      const on = shape?.deps(task)?.filter((dep) => !DONE.has(tasks[dep]?.s ?? ''));
      waitingOn.push({ task, reason: 'dependencies', ...(on ? { on } : {}) });
      if (described >= MAX_DEPENDENCY_LINES) {
        more++;
        continue;
      }
      described++;
      const list = on?.length
        ? on.map((dep) => `${dep} (${tasks[dep]?.s ?? 'unknown'})`).join(', ')
        : undefined;
      lines.push(`${task}: waits for ${list ?? 'the tasks before it'}.`);
    }
    if (more > 0) lines.push(`… and ${more} more tasks wait for the tasks before them.`);
  }
  return result();

  function noWorker(task: string, entry: WaitingOn): void {
    const waiting = unserved?.(task);
    if (waiting === undefined) return;
    const { queue, needsFlow } = waiting;
    entry.unservedQueue = queue;
    if (needsFlow) {
      entry.needsFlow = needsFlow;
      lines.push(
        `${task}: waits in queue ${queue} for a worker that knows flow ${needsFlow.flow} version ${needsFlow.version} (structure ${needsFlow.hash}); the live workers do not know it. Start a worker with that version in createWorker({ flows }).`,
      );
      return;
    }
    lines.push(
      `${task}: waits in queue ${queue}, which no live worker reads. Start a worker with queues: ['${queue}'].`,
    );
  }

  function result(): Explanation {
    return {
      runId: id,
      status,
      ...(meta.owner !== undefined ? { owner: meta.owner } : {}),
      waitingOn,
      text: lines.join('\n'),
    };
  }
}

function oneLine(failure: FailureRecord): string {
  const message = failure.message.split('\n')[0] ?? '';
  return `${failure.name}: ${message}`;
}

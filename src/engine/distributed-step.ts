import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  transition,
} from 'xstate';
import type { CompiledFlow, TaskStateEvent } from '../compile/compile.js';
import type { RunContext } from '../compile/run-context.js';
import type { ExecuteInput, RevertInput, SleepInput } from '../compile/task-actors.js';
import { recordOf } from '../compile/task-records.js';
import { actorOfOutcome, parseTaskActorId, TASK_ACTORS, taskActorId } from '../model/names.js';
import type { RunStatus } from '../model/run-status.js';
import type { TaskMessage, TimerMember } from '../store/redis-queues.js';
import type { NewRunEvent } from '../store/run-history.js';
import { persistedSnapshot } from './persisted-snapshot.js';
import { INPUTS_PART, splitSnapshot } from './snapshot-parts.js';

/**
 * One step of a distributed run, as pure data: from a snapshot and an event (or a run's input), the
 * next snapshot and what its write carries — the changed parts, the history events, the tasks it
 * started (messages for their queues) and the backoff deadlines it set. Nothing here touches Redis.
 */

const { RUNNING, RETRYING, REVERTING } = TASK_ACTORS;

/** The owner recorded on a run no process owns (any worker takes its next step). */
export const DISTRIBUTED_OWNER = 'distributed';

/** Statuses a run stops in: recorded after the task changes of their write (as RunWriter does). */
const ENDING: ReadonlySet<string> = new Set(['SUCCESS', 'REVERTED', 'FAILURE', 'SUSPENDED']);
const FAILED_STATES: ReadonlySet<string> = new Set(['FAILURE', 'RETRYING', 'REVERT_FAILURE']);

export interface PlannedStep {
  next: AnyMachineSnapshot;
  status: RunStatus;
  set: Record<string, string>;
  events: NewRunEvent[];
  dispatch: { queue: string; message: TaskMessage }[];
  addTimers: { until: number; member: string }[];
  /** Busy tasks this step stopped (a cancel, a sibling's failure): their workers abort their signals. */
  aborted: TaskMessage[];
}

/** A stored snapshot (as joined from its parts) made ready for `transition()`; nothing is started. */
export function restore(machine: AnyStateMachine, persisted: unknown): AnyMachineSnapshot {
  return createActor(machine, { snapshot: persisted as never }).getSnapshot() as AnyMachineSnapshot;
}

/** Apply one event; undefined when the machine ignores it (the event changes nothing). */
export function step(
  compiled: CompiledFlow,
  before: AnyMachineSnapshot,
  event: EventObject,
  at: number,
): PlannedStep | undefined {
  const [next, actions] = transition(compiled.machine, before, event);
  if (next === before || next.context === before.context) return undefined;
  return plan(compiled, before, next, actions, at, event);
}

/** What the write of a step carries; `before` undefined for a run's first snapshot (its create). */
export function plan(
  compiled: CompiledFlow,
  before: AnyMachineSnapshot | undefined,
  next: AnyMachineSnapshot,
  actions: readonly { type: string; params?: unknown }[],
  at: number,
  /** The event applied: the child whose outcome it carries is done, not aborted. */
  event?: EventObject,
): PlannedStep {
  const settledBy = new Set<string>();
  const outcome = event && actorOfOutcome(event.type);
  if (outcome) settledBy.add(outcome);
  const { graph } = compiled;
  const context = next.context as RunContext;
  const old = before?.context as RunContext | undefined;
  const persisted = persistedSnapshot(next);
  let set: Record<string, string>;
  if (!old) {
    set = {
      ...splitSnapshot(
        persisted,
        graph,
        graph.tasks.map((t) => t.name),
      ),
      [INPUTS_PART]: JSON.stringify(context.inputs),
      concurrency: String(context.concurrency),
    };
  } else {
    // Records are replaced when they change (pure transitions): identity says which parts to write.
    const dirty: string[] = [];
    for (const node of graph.tasks) {
      if (recordOf(graph, context, node.name) !== recordOf(graph, old, node.name)) dirty.push(node.name);
    }
    set = splitSnapshot(persisted, graph, dirty, old);
  }

  const taskEvents: NewRunEvent[] = [];
  const dispatch: PlannedStep['dispatch'] = [];
  const addTimers: PlannedStep['addTimers'] = [];
  const children = next.children as Record<string, unknown>;
  const aborted: TaskMessage[] = [];
  const beforeChildren = (before?.children ?? {}) as Record<string, { getSnapshot(): { input?: unknown } }>;
  for (const action of actions) {
    const params = action.params as Record<string, unknown> | undefined;
    if (action.type === 'xstate.emit') {
      const e = params?.event as TaskStateEvent;
      const rec = recordOf(graph, context, e.task);
      const failed = FAILED_STATES.has(e.state) && rec.f;
      taskEvents.push({
        at: e.at,
        task: e.task,
        state: e.state,
        attempt: e.attempt,
        ...(failed ? { error: { name: rec.f!.name, message: rec.f!.message } } : {}),
      });
    } else if (action.type === 'xstate.stopChild' && params) {
      // A child stopped while still busy (not the one whose outcome this step applies: that one is done).
      // Its params are the stopped actor itself.
      const id = String((params as { id?: unknown }).id ?? '');
      const actor = parseTaskActorId(id);
      const input = beforeChildren[id]?.getSnapshot().input as ExecuteInput | undefined;
      if (actor && actor.kind !== RETRYING.prefix && input && !settledBy.has(id)) {
        aborted.push({
          r: input.runId,
          t: actor.task,
          k: actor.kind,
          a: input.attempt,
          i: input.idempotencyKey,
        });
      }
    } else if (action.type === 'xstate.spawnChild' && params) {
      // Spawned and still there at the end of the step (not stopped again within it).
      if (children[params.id as string] !== params.actorRef) continue;
      if (params.src === RETRYING.src) {
        const task = parseTaskActorId(String(params.id))!.task;
        const member: TimerMember = { r: context.runId, t: task, a: recordOf(graph, context, task).a };
        addTimers.push({ until: (params.input as SleepInput).until, member: JSON.stringify(member) });
      } else if (params.src === RUNNING.src || params.src === REVERTING.src) {
        const input = params.input as ExecuteInput | RevertInput;
        dispatch.push({
          queue: graph.byName.get(input.task)!.task.queue ?? 'default',
          message: {
            r: input.runId,
            t: input.task,
            k: params.src === RUNNING.src ? RUNNING.prefix : REVERTING.prefix,
            a: input.attempt,
            i: input.idempotencyKey,
          },
        });
      }
    }
  }

  // As RunWriter orders them: statuses before the task changes of their write (taking the first
  // one's time), except one that ends the run, which comes last.
  const statuses: NewRunEvent[] = [];
  if (context.status !== old?.status) statuses.push({ at, state: context.status });
  const firstTask = taskEvents[0]?.at ?? Number.POSITIVE_INFINITY;
  const events = [
    ...statuses.filter((e) => !ENDING.has(e.state)).map((e) => ({ ...e, at: Math.min(e.at, firstTask) })),
    ...taskEvents,
    ...statuses.filter((e) => ENDING.has(e.state)),
  ];
  return { next, status: context.status, set, events, dispatch, addTimers, aborted };
}

/** The child a queue message refers to, if the snapshot still has it at that attempt and key. */
export function currentChild(
  snapshot: AnyMachineSnapshot,
  message: Pick<TaskMessage, 't' | 'k' | 'a' | 'i'>,
): ExecuteInput | RevertInput | undefined {
  const ref = (snapshot.children as Record<string, { getSnapshot(): { input?: unknown } } | undefined>)[
    taskActorId(message.k, message.t)
  ];
  const input = ref?.getSnapshot().input as ExecuteInput | RevertInput | undefined;
  if (!input || input.attempt !== message.a || input.idempotencyKey !== message.i) return undefined;
  return input;
}

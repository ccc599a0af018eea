import {
  type AnyMachineSnapshot,
  type AnyStateMachine,
  createActor,
  type EventObject,
  transition,
} from 'xstate';
import type { CompiledFlow, RunStepEvent } from '../compile/compile.js';
import type { RunContext } from '../compile/run-context.js';
import type { ExecuteInput, RevertInput, SleepInput } from '../compile/task-actors.js';
import { taskMachineInput } from '../compile/task-machines.js';
import { recordOf } from '../compile/task-records.js';
import { actorOfOutcome, parseTaskActorId, TASK_ACTORS, taskActorId } from '../model/names.js';
import type { RunStatus } from '../model/run-status.js';
import type { TaskMessage, TimerMember } from '../store/redis-queues.js';
import type { NewRunEvent } from '../store/run-history.js';
import { INPUTS_PART, splitSnapshot } from './snapshot-parts.js';
import { taskEvent, writeEvents } from './write-events.js';

/**
 * One step of a distributed run, as pure data: from a snapshot and an event (or a run's input), the
 * next snapshot and what its write carries — the changed parts, the history events, the tasks it
 * started (messages for their queues) and the backoff deadlines it set. Nothing here touches Redis.
 */

const { RUNNING, RETRYING, REVERTING } = TASK_ACTORS;

/** The owner recorded on a run no process owns (any worker takes its next step). */
export const DISTRIBUTED_OWNER = 'distributed';

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
  /** Write every task's parts (the stored run holds its child actors in its core: `holdsChildren`). */
  whole = false,
): PlannedStep | undefined {
  const [next, actions] = transition(compiled.machine, before, event);
  if (next === before || next.context === before.context) return undefined;
  return plan(compiled, before, next, actions, at, event, whole);
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
  whole = false,
): PlannedStep {
  const settledBy = new Set<string>();
  const outcome = event && actorOfOutcome(event.type);
  if (outcome) settledBy.add(outcome);
  const { graph } = compiled;
  const context = next.context as RunContext;
  const old = before?.context as RunContext | undefined;
  // What the reducer's steps changed (their `step` events): the parts to write and the history events.
  const taskEvents: NewRunEvent[] = [];
  const dirty = new Set<string>();
  const lists = { queue: false, failures: false };
  for (const action of actions) {
    if (action.type !== 'xstate.emit') continue;
    const e = (action.params as { event?: RunStepEvent } | undefined)?.event;
    if (e?.type !== 'step') continue;
    for (const change of e.changed) {
      dirty.add(change.task);
      taskEvents.push(taskEvent(change));
    }
    if (e.queueChanged) lists.queue = true;
    if (e.failuresChanged) lists.failures = true;
  }
  const set = old
    ? whole
      ? splitSnapshot(
          next,
          graph,
          graph.tasks.map((t) => t.name),
        )
      : splitSnapshot(next, graph, dirty, { lists })
    : {
        ...splitSnapshot(
          next,
          graph,
          graph.tasks.map((t) => t.name),
          { create: true },
        ),
        [INPUTS_PART]: JSON.stringify(context.inputs),
        concurrency: String(context.concurrency),
      };

  const dispatch: PlannedStep['dispatch'] = [];
  const addTimers: PlannedStep['addTimers'] = [];
  const children = next.children as Record<string, unknown>;
  const aborted: TaskMessage[] = [];
  const beforeChildren = (before?.children ?? {}) as Record<string, ChildRef>;
  for (const action of actions) {
    const params = action.params as Record<string, unknown> | undefined;
    if (action.type === 'xstate.stopChild' && params) {
      // A child stopped while still busy (not the one whose outcome this step applies: that one is done).
      // Its params are the stopped actor itself.
      const id = String((params as { id?: unknown }).id ?? '');
      const actor = parseTaskActorId(id);
      const input = beforeChildren[id] && (inputOf(beforeChildren[id]) as ExecuteInput | undefined);
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
      // By the child's id, not its source: in the spawned shape the child is a task machine holding the actor.
      const actor = parseTaskActorId(String(params.id));
      if (actor?.kind === RETRYING.prefix) {
        const member: TimerMember = {
          r: context.runId,
          t: actor.task,
          a: recordOf(graph, context, actor.task).a,
        };
        addTimers.push({ until: (params.input as SleepInput).until, member: JSON.stringify(member) });
      } else if (actor?.kind === RUNNING.prefix || actor?.kind === REVERTING.prefix) {
        const input = params.input as ExecuteInput | RevertInput;
        dispatch.push({
          queue: graph.byName.get(input.task)!.task.queue ?? 'default',
          message: {
            r: input.runId,
            t: input.task,
            k: actor.kind,
            a: input.attempt,
            i: input.idempotencyKey,
          },
        });
      }
    }
  }

  const statuses: NewRunEvent[] = context.status !== old?.status ? [{ at, state: context.status }] : [];
  const events = writeEvents(statuses, taskEvents);
  return { next, status: context.status, set, events, dispatch, addTimers, aborted };
}

/** The child a queue message refers to, if the snapshot still has it at that attempt and key. */
export function currentChild(
  snapshot: AnyMachineSnapshot,
  message: Pick<TaskMessage, 't' | 'k' | 'a' | 'i'>,
): ExecuteInput | RevertInput | undefined {
  const ref = (snapshot.children as Record<string, ChildRef | undefined>)[taskActorId(message.k, message.t)];
  const input = ref && (inputOf(ref) as ExecuteInput | RevertInput | undefined);
  if (!input || input.attempt !== message.a || input.idempotencyKey !== message.i) return undefined;
  return input;
}

type ChildRef = { getSnapshot(): { input?: unknown; machine?: unknown; children?: Record<string, unknown> } };

/** A task's child's input: an actor's own, or that of the actor a task machine holds (the spawned shape). */
function inputOf(ref: ChildRef): unknown {
  const snapshot = ref.getSnapshot();
  return snapshot.machine === undefined ? snapshot.input : taskMachineInput(snapshot);
}

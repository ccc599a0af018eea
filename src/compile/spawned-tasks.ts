import { TASK_ACTORS, TASK_MACHINE_SRC, taskActorId } from '../model/names.js';
import type { TaskState } from '../model/task-states.js';
import type { FlowGraph } from './flow-graph.js';
import type { RunContext } from './run-context.js';
import type { Reduced } from './run-reducer.js';
import type { Scheduler } from './scheduler.js';
import { executeInput, revertInput, sleepInput } from './task-inputs.js';
import { recordOf } from './task-records.js';

/**
 * The spawned shape (compile.ts, `RunShape`): the run machine has no region per lane; each busy task is
 * a task machine the run spawns (task-machines.ts). Which machines a step stops and spawns follows from
 * the tasks it changed, as a pure decision: a task that was busy loses its machine (done, aborted, or
 * replaced by its next busy state's), a task that is busy after the step gets one, started with its
 * input from the step's context. A machine whose task is done is stopped too: XState keeps a done child
 * in every following snapshot until it is stopped.
 */
export type ChildMove =
  | { kind: 'stop'; id: string }
  | { kind: 'spawn'; id: string; src: string; input: unknown };

export function childMoves(
  graph: FlowGraph,
  scheduler: Scheduler,
  before: RunContext,
  step: Pick<Reduced, 'context' | 'changed'>,
): ChildMove[] {
  const moves: ChildMove[] = [];
  // Net per task: its state before the step and after it (a step may move a task more than once).
  const was = new Map<string, TaskState>();
  for (const change of step.changed) {
    if (!was.has(change.task)) was.set(change.task, recordOf(graph, before, change.task).s);
  }
  for (const [task, old] of was) {
    const oldActor = TASK_ACTORS[old as keyof typeof TASK_ACTORS];
    if (oldActor) moves.push({ kind: 'stop', id: taskActorId(oldActor.prefix, task) });
    const state = recordOf(graph, step.context, task).s as keyof typeof TASK_ACTORS;
    const actor = TASK_ACTORS[state];
    if (!actor) continue;
    const input =
      state === 'RUNNING'
        ? executeInput(graph, scheduler, step.context, task)
        : state === 'RETRYING'
          ? sleepInput(graph, step.context, task)
          : revertInput(graph, scheduler, step.context, task);
    moves.push({ kind: 'spawn', id: taskActorId(actor.prefix, task), src: TASK_MACHINE_SRC[state], input });
  }
  return moves;
}

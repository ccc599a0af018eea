import { doneEventOf, TASK_ACTORS, taskActorId } from '../model/names.js';
import type { FlowGraph } from './flow-graph.js';
import { busyState, idleId, type Lanes, runningId } from './lanes.js';
import type { RunContext } from './run-context.js';
import type { Scheduler } from './scheduler.js';
import type { ExecuteInput, RevertInput } from './task-actors.js';
import { executeInput, revertInput, sleepInput } from './task-inputs.js';

/**
 * The states of one lane (a region of the run machine): `idle`, or one task's busy state. A task is a
 * state node whose RUNNING, RETRYING and REVERTING states invoke its actors by name; its other states
 * (PENDING, SUCCESS, ...) live in its record in the context.
 */
export type TaskEventKind = 'done' | 'retry' | 'failed' | 'slept' | 'reverted' | 'revertFailed';

export function laneRegion(
  graph: FlowGraph,
  lanes: Lanes,
  lane: readonly string[],
  index: number,
  scheduler: Scheduler,
) {
  const idle = `#${idleId(index)}`;
  // On WAKE an idle lane enters the state its tasks' records call for (at most one task per lane is busy);
  // a WAKE for other lanes is passed by the first, targetless transition.
  const wake = [
    { guard: { type: 'notWoken' as const, params: { lane: index } } },
    ...lane.flatMap((task) => [
      {
        guard: { type: 'recordIs' as const, params: { task, state: 'RUNNING' as const } },
        target: busyState(task, 'RUNNING'),
      },
      {
        guard: { type: 'recordIs' as const, params: { task, state: 'REVERTING' as const } },
        target: busyState(task, 'REVERTING'),
      },
    ]),
  ];
  // An idle lane also listens for the completion of its tasks' dependencies in other lanes, so a task
  // whose last dependency just finished starts in that same microstep.
  const listeners: Record<
    string,
    { guard: { type: 'canStartAfter'; params: { dep: string; task: string } }; target: string }[]
  > = {};
  lane.forEach((task) => {
    for (const dep of graph.byName.get(task)!.deps) {
      // The lane's own RUNNING → next transition covers its predecessor; wide fan-outs go by events.
      if (lanes.successor.get(dep) === task || !scheduler.listensFor(dep, task)) continue;
      const event = doneEventOf(taskActorId('execute', dep));
      listeners[event] = [
        ...(listeners[event] ?? []),
        { guard: { type: 'canStartAfter', params: { dep, task } }, target: busyState(task, 'RUNNING') },
      ];
    }
  });
  const on: Record<string, string> = {};
  for (const task of lane) {
    on[`START.${task}`] = `.${busyState(task, 'RUNNING')}`;
    on[`REVERT.${task}`] = `.${busyState(task, 'REVERTING')}`;
  }
  return {
    initial: 'idle',
    on,
    states: {
      idle: { id: idleId(index), on: { WAKE: wake, ...listeners } },
      ...Object.assign(
        {},
        ...lane.map((task) => taskStates(graph, task, lanes.successor.get(task), idle, scheduler)),
      ),
    },
  };
}

/** A task's busy states; its other states (PENDING, SUCCESS, ...) are its lane being elsewhere. */
function taskStates(
  graph: FlowGraph,
  task: string,
  next: string | undefined,
  idle: string,
  scheduler: Scheduler,
) {
  const on = (kind: TaskEventKind) => ({ type: 'onTask' as const, params: { task, kind } });
  const done = next
    ? [
        {
          guard: { type: 'canStartAfter' as const, params: { dep: task, task: next } },
          target: `#${runningId(next)}`,
          actions: on('done'),
        },
        { target: idle, actions: on('done') },
      ]
    : { target: idle, actions: on('done') };
  const leave = (state: 'RUNNING' | 'RETRYING') => [
    {
      guard: { type: 'recordIs' as const, params: { task, state: 'REVERTING' as const } },
      target: busyState(task, 'REVERTING'),
    },
    { guard: { type: 'recordIsNot' as const, params: { task, state } }, target: idle },
  ];
  return {
    [busyState(task, 'RUNNING')]: {
      id: runningId(task),
      invoke: {
        id: taskActorId(TASK_ACTORS.RUNNING.prefix, task),
        src: TASK_ACTORS.RUNNING.src,
        input: ({ context }: { context: RunContext }): ExecuteInput =>
          executeInput(graph, scheduler, context, task),
        onDone: done,
        onError: [
          {
            guard: { type: 'canRetry' as const, params: { task } },
            target: busyState(task, 'RETRYING'),
            actions: on('retry'),
          },
          { target: idle, actions: on('failed') },
        ],
      },
      // Aborted (the scheduler recorded FAILURE, maybe REVERTING already): leaving the state stops the
      // actor and aborts its signal.
      on: { WAKE: leave('RUNNING'), [`ABORT.${task}`]: leave('RUNNING') },
    },
    [busyState(task, 'RETRYING')]: {
      invoke: {
        id: taskActorId(TASK_ACTORS.RETRYING.prefix, task),
        src: TASK_ACTORS.RETRYING.src,
        input: ({ context }: { context: RunContext }) => sleepInput(graph, context, task),
        onDone: { target: busyState(task, 'RUNNING'), actions: on('slept') },
      },
      on: { WAKE: leave('RETRYING'), [`ABORT.${task}`]: leave('RETRYING') },
    },
    [busyState(task, 'REVERTING')]: {
      invoke: {
        id: taskActorId(TASK_ACTORS.REVERTING.prefix, task),
        src: TASK_ACTORS.REVERTING.src,
        input: ({ context }: { context: RunContext }): RevertInput =>
          revertInput(graph, scheduler, context, task),
        onDone: { target: idle, actions: on('reverted') },
        onError: { target: idle, actions: on('revertFailed') },
      },
    },
  };
}

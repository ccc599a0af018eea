import { type AnyActorLogic, type AnyStateMachine, setup } from 'xstate';
import { TASK_ACTORS, TASK_MACHINE_SRC } from '../model/names.js';

/** A busy state that has its own machine in the spawned shape. */
export type BusyState = keyof typeof TASK_ACTORS;

/**
 * The spawned shape's task machines (compile.ts, `RunShape`): one per busy state, by source name. Each
 * holds one state of a task, named as the task's record names it (`RUNNING`, `RETRYING`, `REVERTING`),
 * which invokes the task's actor (`execute`, `sleepUntil`, `revert`) with the machine's input, then
 * ends (`DONE`) with the actor's output, or errors with its error: the run gets the same done and error
 * events as when its own state invokes the actor. The run decides what follows (retry, revert, the next
 * task) and spawns the next busy state's machine: decisions stay in the run's reducer.
 *
 * The input goes straight to the invoked actor (the machine keeps no context): it is persisted once,
 * with that actor, which XState rehydrates and re-runs with it, as it does for an actor the run invokes
 * itself. `taskMachineInput` reads it back.
 */
export function taskMachines(actors: Record<string, AnyActorLogic>): Record<string, AnyStateMachine> {
  const machines: Record<string, AnyStateMachine> = {};
  for (const state of Object.keys(TASK_ACTORS) as BusyState[]) {
    machines[TASK_MACHINE_SRC[state]] = busyStateMachine(state, actors);
  }
  return machines;
}

function busyStateMachine(state: BusyState, actors: Record<string, AnyActorLogic>): AnyStateMachine {
  const { src } = TASK_ACTORS[state];
  const passOutput = ({ event }: { event: { output?: unknown } }) => event.output;
  return setup({ actors: { [src]: actors[src]! } }).createMachine({
    id: TASK_MACHINE_SRC[state],
    initial: state,
    states: {
      [state]: {
        // An error of the actor is not handled here: the machine errors with it, and the run gets it.
        // The machine's input arrives on its init event, the event its first state is entered with.
        invoke: {
          id: src,
          src,
          input: ({ event }: { event: { input?: unknown } }) => event.input,
          onDone: 'DONE',
        },
      },
      DONE: { type: 'final', output: passOutput },
    },
    // The machine's output is its final state's (XState passes it on the done-state event).
    output: passOutput,
  } as never) as unknown as AnyStateMachine;
}

/** What a task machine's actor was started with (undefined for anything else). */
export function taskMachineInput(snapshot: { children?: Record<string, unknown> }): unknown {
  // A task machine has one child: the actor its state invokes.
  const [actor] = Object.values(snapshot.children ?? {}) as { getSnapshot(): { input?: unknown } }[];
  return actor?.getSnapshot().input;
}

import { assign, fromPromise, type PromiseActorLogic, type SnapshotFrom, setup } from 'xstate';
import { type FailureRecord, toFailureRecord } from '../src/model/failure-record.js';
import {
  actionNames,
  choices,
  type LifecycleDefinition,
  type Transition,
  validateDefinition,
} from './table.js';

/** An event sent to a resource. `state` picks the target when the table offers several (e.g. `RESET_STATE`). */
export interface LifecycleEvent {
  type: string;
  state?: string;
  [field: string]: unknown;
}

/** A failed action, as plain data. */
export interface ActionFailure {
  action: string;
  /** The in-progress state the action ran in. */
  state: string;
  failure: FailureRecord;
}

export interface LifecycleContext {
  resourceId: string;
  /** The event that started the operation in progress (or the last one); actions receive it. */
  request: LifecycleEvent | null;
  /** The state that event arrived in: where the operation started. */
  from: string;
  /** How many actions have started: makes each action run's key unique. */
  runs: number;
  /** Each action's last result, by action name. */
  outputs: Record<string, unknown>;
  /** The last failed action; cleared when an action succeeds. */
  error: ActionFailure | null;
}

/**
 * What an action receives. `key` is the same when the action is re-run after a restore (XState replays
 * the saved input), so an action that starts a flow run can use it as the run's id and resume it.
 */
export interface ActionInput {
  resourceId: string;
  action: string;
  key: string;
  event: LifecycleEvent;
  context: LifecycleContext;
}

/** Placeholder actor for every action until a runner provides the real one. */
const unbound = (action: string) =>
  fromPromise<unknown, ActionInput>(async () => {
    throw new Error(`Action \`${action}\` has no implementation: pass it to runLifecycle({ actions }).`);
  });

/**
 * Build an XState machine from a lifecycle table. Each in-progress state invokes its action by name
 * (`setup({ actors })`, so snapshots persist and runners `.provide()` the code); the action's success
 * and failure move the resource as the table says. No delays, no inline actors, no `always`.
 *
 * @example
 * const machine = lifecycle({ id: 'lamp', initial: 'off', states: {
 *   off: { description: 'dark', on: { SWITCH_ON: ['warming', 'user wants light'] } },
 *   warming: { description: 'heating up', action: 'warm', done: ['on', 'warm'], error: ['off', 'bulb broke'] },
 *   on: { description: 'lit', on: { SWITCH_OFF: ['off', 'user is done'] } },
 * } });
 */
export function lifecycle(definition: LifecycleDefinition) {
  validateDefinition(definition);
  const actions = actionNames(definition);
  const states: Record<string, object> = {};
  for (const [name, state] of Object.entries(definition.states)) {
    const on = Object.fromEntries(
      Object.entries(state.on ?? {}).map(([event, transitions]) => [
        event,
        choices(transitions).map(onEvent(name)),
      ]),
    );
    const node: Record<string, unknown> = { description: state.description, on };
    if (state.meta) node.meta = state.meta;
    if (state.final) node.type = 'final';
    if (state.action && state.done && state.error) {
      const action = state.action;
      node.entry = assign({ runs: ({ context }: { context: LifecycleContext }) => context.runs + 1 });
      node.invoke = {
        id: action,
        src: action,
        input: ({ context }: { context: LifecycleContext }): ActionInput => ({
          resourceId: context.resourceId,
          action,
          key: `${context.resourceId}:${action}:${context.runs}`,
          event: context.request ?? { type: 'xstate.init' },
          context,
        }),
        onDone: {
          target: state.done[0],
          description: state.done[1],
          actions: assign({
            outputs: ({ context, event }) => ({ ...context.outputs, [action]: event.output }),
            error: null,
          }),
        },
        onError: {
          target: state.error[0],
          description: state.error[1],
          actions: assign({
            error: ({ event }) => ({ action, state: name, failure: toFailureRecord(event.error) }),
          }),
        },
      };
    }
    states[name] = node;
  }

  return setup({
    types: {
      context: {} as LifecycleContext,
      events: {} as LifecycleEvent,
      input: {} as { resourceId: string },
    },
    actors: Object.fromEntries(actions.map((action) => [action, unbound(action)])) as Record<
      string,
      PromiseActorLogic<unknown, ActionInput>
    >,
    guards: {
      /** A choice: the event names this target in its `state` field. */
      stateIs: ({ event }, params: { state: string }) => event.state === params.state,
    },
  }).createMachine({
    id: definition.id,
    initial: definition.initial,
    context: ({ input }) => ({
      resourceId: input.resourceId,
      request: null,
      from: definition.initial,
      runs: 0,
      outputs: {},
      error: null,
    }),
    states: states as Record<string, Record<never, never>>,
  });
}

/** A machine built by `lifecycle()`. */
export type LifecycleMachine = ReturnType<typeof lifecycle>;
export type LifecycleSnapshot = SnapshotFrom<LifecycleMachine>;

/** One table transition as XState config: records the request, and is guarded when it is one of a choice. */
const onEvent =
  (from: string) =>
  ([target, reason]: Transition, _index: number, all: readonly Transition[]) => ({
    target,
    description: reason,
    actions: assign({ request: ({ event }: { event: LifecycleEvent }) => event, from }),
    ...(all.length > 1 ? { guard: { type: 'stateIs', params: { state: target } } } : {}),
  });

/** The current state's name (lifecycle machines are flat). */
export const stateName = (snapshot: LifecycleSnapshot): string => String(snapshot.value);

/** Whether an action is running: the resource is between stable states. */
export const inProgress = (snapshot: LifecycleSnapshot): boolean => Object.keys(snapshot.children).length > 0;

/** The current state's `meta` from the table (e.g. Nova's `vm_state`/`task_state`). */
export function stateMeta(snapshot: LifecycleSnapshot): Readonly<Record<string, string | null>> {
  const meta = snapshot.getMeta() as Record<string, Record<string, string | null> | undefined>;
  return meta[`${snapshot.machine.id}.${stateName(snapshot)}`] ?? {};
}

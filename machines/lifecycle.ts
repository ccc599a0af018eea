import {
  type AnyMachineSnapshot,
  assign,
  fromPromise,
  type PromiseActorLogic,
  type SnapshotFrom,
  setup,
} from 'xstate';
import type { FailureRecord } from '../src/index.js';
import { toFailureRecord as toFailure } from '../src/model/failure-record.js';
import { applyFacts, type Facts, type Guard, type GuardScope, guardHolds, guardText } from './guards.js';
import {
  actionNames,
  choices,
  expandTable,
  INTERNAL_PREFIX,
  type LifecycleDefinition,
  type LifecycleState,
  type StateOf,
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

/**
 * An action whose state was left before it finished (an interrupt such as DELETE, or its timeout):
 * what it started must be cancelled (a flow's run reverted) before the resource's next action runs.
 * Kept in the snapshot until the runner has done it, so a restored runner does it too.
 */
export interface InterruptedAction {
  action: string;
  /** The action run's key (a flow run's id under `flowActions`). */
  key: string;
  /** The in-progress state it ran in. */
  state: string;
  /** The event that interrupted it, or `timeout`. */
  by: string;
}

export interface LifecycleContext {
  resourceId: string;
  /** The event that started the operation in progress (or the last one); actions receive it. */
  request: LifecycleEvent | null;
  /** The state that event arrived in: where the operation started (what `from` guards test). */
  from: string;
  /** How many actions have started: makes each action run's key unique. */
  runs: number;
  /** Each action's last result, by action name. */
  outputs: Record<string, unknown>;
  /** The last failed action; cleared when an action succeeds. */
  error: ActionFailure | null;
  /** Facts guards read and transitions `set` (e.g. `attachments`). */
  facts: Facts;
  /** The service's labels as they are now (Nova's `vm_state`/`task_state`): each state's `meta` over the previous ones. */
  labels: Record<string, string | null>;
  /** When the running action times out (epoch ms), or null. Stored, so it fires after a restore. */
  deadline: number | null;
  /** Actions left unfinished whose work is still to be cancelled. */
  interrupted: InterruptedAction[];
}

/**
 * What an action receives. `key` is the same when the action is re-run after a restore (XState replays
 * the saved input), so an action that starts a flow run can use it as the run's id and resume it.
 */
export interface ActionInput {
  resourceId: string;
  action: string;
  /** The in-progress state the action runs in. */
  state: string;
  /** The state's `timeoutMs`, or null. */
  timeoutMs: number | null;
  /** When it runs out (epoch ms, stored with the input, so a restored runner keeps it), or null. */
  deadline: number | null;
  key: string;
  event: LifecycleEvent;
  context: LifecycleContext;
}

/** The runner's own events: an interrupted action's work was cancelled (or could not be). */
export const CANCELLED = `${INTERNAL_PREFIX}cancelled`;
export const CANCEL_FAILED = `${INTERNAL_PREFIX}cancel-failed`;

/** Placeholder actor for every action until a runner provides the real one. */
const unbound = (action: string) =>
  fromPromise<unknown, ActionInput>(async () => {
    throw new Error(`Action \`${action}\` has no implementation: pass it to runLifecycle({ actions }).`);
  });

const keyOf = (context: LifecycleContext, action: string) =>
  `${context.resourceId}:${action}:${context.runs}`;

type Kind = 'event' | 'done' | 'error';

/** Parameters of the `when` guard: the row's guard and where it sits. */
interface WhenParams {
  guard: Guard;
  kind: Kind;
  source: string;
  inProgress: boolean;
  /** What diagrams print. */
  label: string;
}

function scopeOf(
  context: LifecycleContext,
  event: Record<string, unknown>,
  kind: Kind,
  source: string,
  inProgress: boolean,
): GuardScope {
  if (kind === 'event')
    return { from: inProgress ? context.from : source, facts: context.facts, fields: event };
  if (kind === 'done') return { from: context.from, facts: context.facts, fields: event.output };
  return {
    from: context.from,
    facts: context.facts,
    fields: undefined,
    failure: event.error as GuardScope['failure'],
  };
}

/**
 * Build an XState machine from a lifecycle table. Each in-progress state invokes its action by name
 * (`setup({ actors })`, so snapshots persist and runners `.provide()` the code); the action's outcome
 * moves the resource as the table says, through guards when the table offers a choice. No delays, no
 * inline actors, no `always`: a timeout is a stored deadline the runner's action wrapper enforces.
 *
 * @example
 * const machine = lifecycle({ id: 'lamp', initial: 'off', states: {
 *   off: { description: 'dark', on: { SWITCH_ON: ['warming', 'user wants light'] } },
 *   warming: { description: 'heating up', action: 'warm', timeoutMs: 5_000, done: ['on', 'warm'], error: ['off', 'bulb broke'] },
 *   on: { description: 'lit', on: { SWITCH_OFF: ['off', 'user is done'] } },
 * } });
 */
export function lifecycle<const D extends LifecycleDefinition>(definition: D): LifecycleMachine<StateOf<D>> {
  validateDefinition(definition);
  return build(definition) as LifecycleMachine<StateOf<D>>;
}

function build(definition: LifecycleDefinition) {
  const table = expandTable(definition);
  const actions = actionNames(definition);
  const metaOf = (name: string) => table[name]?.meta ?? {};

  /** One table row as an XState transition: guard, bookkeeping, facts and labels. */
  const transition =
    (source: string, kind: Kind, event: string) =>
    ([target, reason, options]: Transition, _index: number, all: readonly Transition[]) => {
      const state = table[source]!;
      const unguarded = all.filter(([, , o]) => !o?.when).length;
      const guard = options?.when
        ? {
            type: 'when',
            params: {
              guard: options.when,
              kind,
              source,
              inProgress: state.action !== undefined,
              label: guardText(options.when),
            } satisfies WhenParams,
          }
        : kind === 'event' && unguarded > 1
          ? { type: 'stateIs', params: { state: target } }
          : undefined;
      const update = ({
        context,
        event: e,
      }: {
        context: LifecycleContext;
        event: Record<string, unknown>;
      }) => {
        const scope = scopeOf(context, e, kind, source, state.action !== undefined);
        const next: Partial<LifecycleContext> = {
          labels: { ...context.labels, ...metaOf(target) },
          deadline: null,
        };
        // `{ from: true }` records where the operation now under way started: the event's state for an event.
        if (options?.set)
          next.facts = applyFacts(options.set, { ...scope, from: kind === 'event' ? source : context.from });
        if (kind === 'event') {
          next.request = e as LifecycleEvent;
          next.from = source;
          // Leaving an in-progress state stops its action: what it started is still to be cancelled.
          if (state.action) next.interrupted = [...context.interrupted, debt(context, state, source, event)];
        } else if (kind === 'done') {
          next.outputs = { ...context.outputs, [state.action!]: e.output };
          next.error = null;
        } else {
          next.error = { action: state.action!, state: source, failure: toFailure(e.error) };
          if ((e.error as Error | undefined)?.name === 'ActionTimeoutError') {
            next.interrupted = [...context.interrupted, debt(context, state, source, 'timeout')];
          }
        }
        return next;
      };
      return {
        target,
        description: reason,
        actions: assign(update as never),
        // An event of an in-progress state back to that state restarts its action: XState re-enters
        // the state only when told to (otherwise the running action would go on while `update`
        // records it as interrupted, and its run would be cancelled under it).
        ...(kind === 'event' && state.action !== undefined && target === source ? { reenter: true } : {}),
        ...(guard ? { guard } : {}),
      };
    };

  const states: Record<string, object> = {};
  for (const [name, state] of Object.entries(table)) {
    const on = Object.fromEntries(
      Object.entries(state.on ?? {}).map(([event, rows]) => [
        event,
        choices(rows).map(transition(name, 'event', event)),
      ]),
    );
    const node: Record<string, unknown> = { description: state.description, on };
    if (state.meta) node.meta = state.meta;
    if (state.final) node.type = 'final';
    if (state.action && state.done && state.error) {
      const action = state.action;
      const timeoutMs = state.timeoutMs;
      node.entry = assign(({ context }: { context: LifecycleContext }) => ({
        runs: context.runs + 1,
        // Stamped where the state is entered: the deadline is part of the snapshot that is saved
        // before the action starts, so a restored runner enforces the same one.
        deadline: timeoutMs === undefined ? null : Date.now() + timeoutMs,
      }));
      node.invoke = {
        id: action,
        src: action,
        input: ({ context }: { context: LifecycleContext }): ActionInput => ({
          resourceId: context.resourceId,
          action,
          state: name,
          timeoutMs: timeoutMs ?? null,
          deadline: context.deadline,
          key: keyOf(context, action),
          event: context.request ?? { type: 'xstate.init' },
          context,
        }),
        onDone: choices(state.done).map(transition(name, 'done', `done(${action})`)),
        onError: choices(state.error).map(transition(name, 'error', `error(${action})`)),
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
      /** A table guard on where the operation started, a fact, an event field or the failure. */
      when: ({ context, event }, params: WhenParams) =>
        guardHolds(
          params.guard,
          scopeOf(context, event as never, params.kind, params.source, params.inProgress),
        ),
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
      facts: { ...definition.facts },
      labels: { ...metaOf(definition.initial) },
      deadline: null,
      interrupted: [],
    }),
    on: {
      [CANCELLED]: {
        actions: assign({
          interrupted: ({ context, event }) => context.interrupted.filter((i) => i.key !== event.key),
        }),
      },
      [CANCEL_FAILED]: {
        actions: assign(({ context, event }) => {
          const done = context.interrupted.find((i) => i.key === event.key);
          return {
            interrupted: context.interrupted.filter((i) => i.key !== event.key),
            error: done
              ? { action: done.action, state: done.state, failure: event.failure as FailureRecord }
              : context.error,
          };
        }),
      },
    },
    states: states as Record<string, Record<never, never>>,
  });
}

function debt(
  context: LifecycleContext,
  state: LifecycleState,
  source: string,
  by: string,
): InterruptedAction {
  return { action: state.action!, key: keyOf(context, state.action!), state: source, by };
}

/** The machine `lifecycle()` builds, before it is branded with its state names. */
type BaseMachine = ReturnType<typeof build>;

declare const stateNames: unique symbol;

/** A machine built by `lifecycle()`; `S` is the table's state names. */
export type LifecycleMachine<S extends string = string> = BaseMachine & { readonly [stateNames]?: S };
/** A snapshot of a lifecycle machine whose `value` is one of the table's state names. */
export type LifecycleSnapshot<S extends string = string> = SnapshotFrom<BaseMachine> & { readonly value: S };

/** The current state's name (lifecycle machines are flat). */
export function stateName<S extends string>(snapshot: LifecycleSnapshot<S>): S;
export function stateName(snapshot: AnyMachineSnapshot): string;
export function stateName(snapshot: AnyMachineSnapshot): string {
  return String(snapshot.value);
}

/** Whether an action is running: the resource is between stable states. */
export const inProgress = (snapshot: AnyMachineSnapshot): boolean =>
  Object.keys(snapshot.children).length > 0;

/** The current state's `meta` from the table (e.g. Nova's `task_state`); `context.labels` has them all as they are now. */
export function stateMeta(snapshot: AnyMachineSnapshot): Readonly<Record<string, string | null>> {
  const meta = snapshot.getMeta() as Record<string, Record<string, string | null> | undefined>;
  return meta[`${snapshot.machine.id}.${stateName(snapshot)}`] ?? {};
}

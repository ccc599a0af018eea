import { LifecycleDefinitionError } from './errors.js';
import { type Guard, guardProblems, type TransitionOptions } from './guards.js';

export type { Facts, FactUpdate, FactValue, Guard, TransitionOptions } from './guards.js';

/**
 * A transition as data: where it goes and, in one line, why it is allowed (like TaskFlow's states.py);
 * optionally when it is taken (a guard on where the operation started, a fact, an event field or a
 * failure) and which facts it records.
 */
export type Transition =
  | readonly [target: string, reason: string]
  | readonly [target: string, reason: string, options: TransitionOptions];

/**
 * One transition, or a choice tried in order. In a choice, a row with `when` is taken when its guard
 * holds; rows without `when` are picked by the event's `state` field when the choice has several of
 * them (an admin's `RESET_STATE` to `active` or `error`), and a lone one is the fallback.
 */
export type Transitions = Transition | readonly Transition[];

/** One state of a resource's lifecycle. A state with an `action` is *in progress*; the others are stable. */
export interface LifecycleState {
  /** One line: what the resource is, or is doing, in this state. */
  description: string;
  /** Runs this action while in the state: invoked by this name, so it is re-run after a restore. */
  action?: string;
  /** Where the action's success takes the resource. Required with `action`. */
  done?: Transitions;
  /** Where the action's failure (or its timeout) takes the resource. Required with `action`. */
  error?: Transitions;
  /**
   * How long the action may run, counted from entering the state. The deadline is stored in the
   * snapshot, so it fires after a restore too; expiry aborts the action, takes the `error` transition
   * with an `ActionTimeoutError`, and cancels what the action started.
   */
  timeoutMs?: number;
  /**
   * Events the state accepts (they override a `common` event of the same name). In an in-progress
   * state, an event whose target is the state itself *restarts* its action: the running one is
   * stopped and cancelled like any interrupted action, then the action runs again with a new key
   * (Heat's delete of a stack that is DELETE_IN_PROGRESS, Nova's delete of a deleting server).
   */
  on?: Readonly<Record<string, Transitions>>;
  /** The resource is gone: nothing leaves this state. */
  final?: boolean;
  /**
   * The service's own labels for the state (Nova's `vm_state`/`task_state`, Cinder's `status`, Heat's
   * `action`/`status`). A label the state does not name keeps the value it had (Nova keeps `vm_state`
   * while a task runs): `context.labels` holds them as they are now.
   */
  meta?: Readonly<Record<string, string | null>>;
}

/** Every state of a lifecycle, by name. */
export type LifecycleTable = Readonly<Record<string, LifecycleState>>;

/** An event many states accept: delete, reset-state, cancel (an *interrupt* when it leaves an in-progress state). */
export interface CommonEvent {
  /** The states that accept it. Final states never do. */
  from: 'any' | 'stable' | 'in-progress' | readonly string[];
  /** States left out. */
  except?: readonly string[];
  to: Transitions;
}

export interface LifecycleDefinition {
  /** Machine id, e.g. `server`. */
  id: string;
  /** The state a new resource starts in (it exists only as a record until its first event). */
  initial: string;
  states: LifecycleTable;
  /**
   * Events accepted in many states. Leaving an in-progress state by any event stops its action and
   * cancels what it started (through the action's `cancel`, e.g. a flow's revert) before the next action runs.
   */
  common?: Readonly<Record<string, CommonEvent>>;
  /** A new resource's facts, which guards read and transitions `set` (e.g. Cinder's attachment count). */
  facts?: Readonly<Record<string, string | number | boolean | null>>;
}

/** The names of a table's states, as a type: grows with a user's extended table. */
export type StateOf<D extends LifecycleDefinition> = Extract<keyof D['states'], string>;

/** One allowed transition, flattened. Action outcomes appear as `done(<action>)` and `error(<action>)`. */
export interface TransitionRow {
  from: string;
  event: string;
  to: string;
  reason: string;
  /** The guard, when the row is one of a choice taken by context. */
  when?: Guard;
  /** The facts the row sets. */
  set?: TransitionOptions['set'];
}

/** The event name an action outcome has in `TransitionRow`s and diagrams. */
export const outcomeEvent = (outcome: 'done' | 'error', action: string): string => `${outcome}(${action})`;

/** Prefix of the runner's own events (a cancelled action's run reported done); tables may not use it. */
export const INTERNAL_PREFIX = 'lifecycle.';

/** A single transition or a choice of several, as a list. */
export function choices(transitions: Transitions): readonly Transition[] {
  return typeof transitions[0] === 'string'
    ? [transitions as Transition]
    : (transitions as readonly Transition[]);
}

const isInProgress = (state: LifecycleState) => state.action !== undefined;

/** Which states a common event applies to, in table order. */
function commonSources(definition: LifecycleDefinition, spec: CommonEvent): string[] {
  const except = new Set(spec.except ?? []);
  return Object.entries(definition.states)
    .filter(([name, state]) => {
      if (state.final || except.has(name)) return false;
      if (spec.from === 'any') return true;
      if (spec.from === 'stable') return !isInProgress(state);
      if (spec.from === 'in-progress') return isInProgress(state);
      return spec.from.includes(name);
    })
    .map(([name]) => name);
}

/**
 * The table with `common` events written into each state's `on` (a state's own entry for the event
 * wins): what the machine, the rows and the diagrams are built from.
 */
export function expandTable(definition: LifecycleDefinition): LifecycleTable {
  const states: Record<string, LifecycleState> = {};
  for (const [name, state] of Object.entries(definition.states)) states[name] = { ...state };
  for (const [event, spec] of Object.entries(definition.common ?? {})) {
    for (const name of commonSources(definition, spec)) {
      const state = states[name]!;
      if (state.on && event in state.on) continue;
      state.on = { ...state.on, [event]: spec.to };
    }
  }
  return states;
}

/**
 * Every allowed transition of a table, in table order (common events included, per state): the list
 * path tests check coverage against and the README's tables are generated from.
 *
 * @example
 * transitionRows(serverLifecycle).filter((row) => row.from === 'STOPPED').map((row) => row.event);
 */
export function transitionRows(definition: LifecycleDefinition): TransitionRow[] {
  const rows: TransitionRow[] = [];
  const push = (from: string, event: string, [to, reason, options]: Transition) =>
    rows.push({
      from,
      event,
      to,
      reason,
      ...(options?.when ? { when: options.when } : {}),
      ...(options?.set ? { set: options.set } : {}),
    });
  for (const [from, state] of Object.entries(expandTable(definition))) {
    if (state.action !== undefined) {
      for (const outcome of ['done', 'error'] as const) {
        for (const row of choices(state[outcome] ?? [])) push(from, outcomeEvent(outcome, state.action), row);
      }
    }
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      for (const row of choices(transitions)) push(from, event, row);
    }
  }
  return rows;
}

/** The actions a table runs, each once, in table order. */
export function actionNames(definition: LifecycleDefinition): string[] {
  const names = Object.values(definition.states).flatMap((state) => (state.action ? [state.action] : []));
  return [...new Set(names)];
}

/**
 * The states an in-progress state's operation can have started in (`context.from` there): the states
 * whose events lead to it, and the starts of the in-progress states whose outcomes lead to it.
 */
export function operationStarts(definition: LifecycleDefinition): Map<string, Set<string>> {
  const states = expandTable(definition);
  const starts = new Map(Object.keys(states).map((name) => [name, new Set<string>()]));
  starts.get(definition.initial)?.add(definition.initial);
  for (const [name, state] of Object.entries(states)) {
    for (const transitions of Object.values(state.on ?? {})) {
      for (const [to] of choices(transitions)) starts.get(to)?.add(name);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, state] of Object.entries(states)) {
      for (const [to] of [...choices(state.done ?? []), ...choices(state.error ?? [])]) {
        const target = starts.get(to);
        if (!target) continue;
        for (const start of starts.get(name)!) {
          if (!target.has(start)) grew = target.add(start) !== undefined;
        }
      }
    }
  }
  return starts;
}

/** Check a table before building a machine from it; throws `LifecycleDefinitionError` naming the problem. */
export function validateDefinition(definition: LifecycleDefinition): void {
  const { id, initial } = definition;
  const problems: string[] = [];
  const names = Object.keys(definition.states);
  if (!(initial in definition.states)) problems.push(`initial state \`${initial}\` is not in the table`);
  for (const [event, spec] of Object.entries(definition.common ?? {})) {
    for (const name of [...(Array.isArray(spec.from) ? spec.from : []), ...(spec.except ?? [])]) {
      if (!(name in definition.states))
        problems.push(`common event \`${event}\` names unknown state \`${name}\``);
    }
  }
  const states = expandTable(definition);
  const starts = operationStarts(definition);
  for (const [name, state] of Object.entries(states)) {
    if (name.includes('.')) problems.push(`state \`${name}\` has a \`.\` in its name`);
    const targets: Transition[] = [];
    if (state.final && (state.action || state.on || state.done || state.error)) {
      problems.push(`final state \`${name}\` has transitions or an action`);
    }
    if (state.timeoutMs !== undefined && !(state.action && state.timeoutMs > 0)) {
      problems.push(
        `\`${name}\` has \`timeoutMs\` ${state.timeoutMs}: expected a positive number on a state with an action`,
      );
    }
    if (state.action !== undefined) {
      if (!state.done || !state.error)
        problems.push(`in-progress state \`${name}\` needs both \`done\` and \`error\``);
      for (const outcome of ['done', 'error'] as const) {
        const list = choices(state[outcome] ?? []);
        targets.push(...list);
        problems.push(...outcomeProblems(name, outcome, list, starts.get(name)!));
        if (outcome === 'error' && state.timeoutMs !== undefined) {
          for (const [to] of list) {
            if (states[to]?.final)
              problems.push(
                `\`${name}\` times out into final state \`${to}\`: its action's run could not be cancelled there`,
              );
          }
        }
      }
    } else if (state.done || state.error) {
      problems.push(`state \`${name}\` has \`done\`/\`error\` but no \`action\``);
    } else if (!state.final && Object.keys(state.on ?? {}).length === 0) {
      problems.push(`stable state \`${name}\` accepts no event: a dead end that is not final`);
    }
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      if (event.startsWith('xstate.') || event.startsWith(INTERNAL_PREFIX))
        problems.push(
          `event \`${event}\` of \`${name}\` uses a reserved prefix (xstate., ${INTERNAL_PREFIX})`,
        );
      const list = choices(transitions);
      if (new Set(list.map(([to]) => to)).size !== list.length) {
        problems.push(`event \`${event}\` of \`${name}\` lists one target twice`);
      }
      for (const [to, , options] of list) {
        if (options?.when && 'field' in options.when && ['type', 'state'].includes(options.when.field))
          problems.push(
            `event \`${event}\` of \`${name}\` guards on field \`${options.when.field}\`, which every event uses for itself`,
          );
        if (options?.when && 'failed' in options.when)
          problems.push(`event \`${event}\` of \`${name}\` guards on a failure, which only \`error\` has`);
        if (state.action !== undefined && states[to]?.final)
          problems.push(
            `event \`${event}\` leaves in-progress \`${name}\` for final \`${to}\`: its action's run could not be cancelled there`,
          );
      }
      targets.push(...list);
    }
    for (const [to, reason, options] of targets) {
      if (!(to in states))
        problems.push(`\`${name}\` goes to unknown state \`${to}\` (known: ${names.join(', ')})`);
      if (!reason.trim()) problems.push(`a transition of \`${name}\` to \`${to}\` has no reason`);
      if (options?.when) problems.push(...guardProblems(name, options.when, names));
    }
  }
  if (problems.length > 0) throw new LifecycleDefinitionError(id, problems);
}

/**
 * An action's outcome must always go somewhere, or the resource would sit in a finished state for
 * ever: a choice ends with an unguarded row, or its `from` guards cover every state it can start in.
 */
function outcomeProblems(
  name: string,
  outcome: 'done' | 'error',
  list: readonly Transition[],
  starts: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const unguarded = list.filter(([, , options]) => !options?.when);
  if (unguarded.length > 1 || (unguarded.length === 1 && list.at(-1)?.[2]?.when)) {
    problems.push(`\`${outcome}\` of \`${name}\` has an unguarded row before the last`);
  }
  if (outcome === 'done' && list.some(([, , options]) => options?.when && 'failed' in options.when)) {
    problems.push(`\`done\` of \`${name}\` guards on a failure`);
  }
  if (unguarded.length === 0 && list.length > 0) {
    const covered = new Set(
      list.flatMap(([, , options]) => {
        const when = options?.when;
        return when && 'from' in when ? (typeof when.from === 'string' ? [when.from] : when.from) : [];
      }),
    );
    const missing = [...starts].filter((start) => !covered.has(start));
    if (missing.length > 0 || list.some(([, , options]) => options?.when && !('from' in options.when))) {
      problems.push(
        `\`${outcome}\` of \`${name}\` may match no row (operations start in ${[...starts].join(', ')}; not covered: ${missing.join(', ') || 'guards other than from'}): end it with an unguarded row`,
      );
    }
  }
  return problems;
}

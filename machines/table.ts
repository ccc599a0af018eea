import { LifecycleDefinitionError } from './errors.js';

/** A transition as data: where it goes and, in one line, why it is allowed (like TaskFlow's states.py). */
export type Transition = readonly [target: string, reason: string];

/** One state of a resource's lifecycle. A state with an `action` is *in progress*; the others are stable. */
export interface LifecycleState {
  /** One line: what the resource is, or is doing, in this state. */
  description: string;
  /** Runs this action while in the state: invoked by this name, so it is re-run after a restore. */
  action?: string;
  /** Where the action's success takes the resource. Required with `action`. */
  done?: Transition;
  /** Where the action's failure takes the resource (an error state, or back to a stable one). */
  error?: Transition;
  /**
   * Events the state accepts. When one event lists several transitions, the event's `state` field
   * names the target (e.g. an admin's `RESET_STATE` to `ACTIVE` or `STOPPED`).
   */
  on?: Readonly<Record<string, Transition | readonly Transition[]>>;
  /** The resource is gone: nothing leaves this state. */
  final?: boolean;
  /** The service's own labels for the state (e.g. Nova's `vm_state`/`task_state`), kept as state meta. */
  meta?: Readonly<Record<string, string | null>>;
}

/** Every state of a lifecycle, by name. */
export type LifecycleTable = Readonly<Record<string, LifecycleState>>;

export interface LifecycleDefinition {
  /** Machine id, e.g. `server`. */
  id: string;
  /** The state a new resource starts in (it exists only as a record until its first event). */
  initial: string;
  states: LifecycleTable;
}

/** One allowed transition, flattened. Action outcomes appear as `done(<action>)` and `error(<action>)`. */
export interface TransitionRow {
  from: string;
  event: string;
  to: string;
  reason: string;
}

/** The event name an action outcome has in `TransitionRow`s and diagrams. */
export const outcomeEvent = (outcome: 'done' | 'error', action: string): string => `${outcome}(${action})`;

/**
 * Every allowed transition of a table, in table order: the list path tests check coverage against.
 *
 * @example
 * transitionRows(serverLifecycle).filter((row) => row.from === 'ACTIVE').map((row) => row.event);
 * // ['STOP', 'PAUSE', 'RESIZE', 'DELETE']
 */
export function transitionRows(definition: LifecycleDefinition): TransitionRow[] {
  const rows: TransitionRow[] = [];
  for (const [from, state] of Object.entries(definition.states)) {
    if (state.action !== undefined) {
      for (const outcome of ['done', 'error'] as const) {
        const transition = state[outcome];
        if (transition)
          rows.push({
            from,
            event: outcomeEvent(outcome, state.action),
            to: transition[0],
            reason: transition[1],
          });
      }
    }
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      for (const [to, reason] of choices(transitions)) rows.push({ from, event, to, reason });
    }
  }
  return rows;
}

/** The actions a table runs, each once, in table order. */
export function actionNames(definition: LifecycleDefinition): string[] {
  const names = Object.values(definition.states).flatMap((state) => (state.action ? [state.action] : []));
  return [...new Set(names)];
}

/** A single transition or a choice of several, as a list. */
export function choices(transitions: Transition | readonly Transition[]): readonly Transition[] {
  return typeof transitions[0] === 'string'
    ? [transitions as Transition]
    : (transitions as readonly Transition[]);
}

/** Check a table before building a machine from it; throws `LifecycleDefinitionError` naming the problem. */
export function validateDefinition(definition: LifecycleDefinition): void {
  const { id, initial, states } = definition;
  const problems: string[] = [];
  const names = Object.keys(states);
  if (!(initial in states)) problems.push(`initial state \`${initial}\` is not in the table`);
  for (const [name, state] of Object.entries(states)) {
    if (name.includes('.')) problems.push(`state \`${name}\` has a \`.\` in its name`);
    const targets: Transition[] = [];
    if (state.final && (state.action || state.on || state.done || state.error)) {
      problems.push(`final state \`${name}\` has transitions or an action`);
    }
    if (state.action !== undefined) {
      if (!state.done || !state.error)
        problems.push(`in-progress state \`${name}\` needs both \`done\` and \`error\``);
      if (state.done) targets.push(state.done);
      if (state.error) targets.push(state.error);
    } else if (state.done || state.error) {
      problems.push(`state \`${name}\` has \`done\`/\`error\` but no \`action\``);
    } else if (!state.final && Object.keys(state.on ?? {}).length === 0) {
      problems.push(`stable state \`${name}\` accepts no event: a dead end that is not final`);
    }
    for (const [event, transitions] of Object.entries(state.on ?? {})) {
      if (event.startsWith('xstate.'))
        problems.push(`event \`${event}\` of \`${name}\` uses XState's prefix`);
      const list = choices(transitions);
      if (new Set(list.map(([to]) => to)).size !== list.length) {
        problems.push(`event \`${event}\` of \`${name}\` lists one target twice`);
      }
      targets.push(...list);
    }
    for (const [to, reason] of targets) {
      if (!(to in states))
        problems.push(`\`${name}\` goes to unknown state \`${to}\` (known: ${names.join(', ')})`);
      if (!reason.trim()) problems.push(`a transition of \`${name}\` to \`${to}\` has no reason`);
    }
  }
  if (problems.length > 0) throw new LifecycleDefinitionError(id, problems);
}

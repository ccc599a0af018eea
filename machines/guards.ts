/**
 * Context guards and facts of lifecycle tables, as data: a guard says which of several rows applies
 * (where the operation started, a counted fact, an event field, the failure's name); `set` records
 * facts. Both are plain values so tables stay data, diagrams can print them and snapshots persist them.
 */

export type FactValue = string | number | boolean | null;
export type Facts = Readonly<Record<string, FactValue>>;

export type Guard =
  /**
   * The state the operation started in (`context.from`): for an event that interrupts an in-progress
   * state, where the interrupted operation started; for an event in a stable state, that state.
   * Nova's revert of task_state: an operation's failure goes back to where it began.
   */
  | { readonly from: string | readonly string[] }
  /** A fact of the resource: equal to `is`, and/or within `atLeast`..`atMost` (Cinder's attachment count). */
  | { readonly fact: string; readonly is?: FactValue; readonly atLeast?: number; readonly atMost?: number }
  /** A field of the event (for `done`, of the action's result): Nova's reboot `type`. */
  | { readonly field: string; readonly is: FactValue }
  /** For `error` only: the failure, or one of its causes, has this name (Cinder's `VolumeIsBusy`). */
  | { readonly failed: string | readonly string[] };

/**
 * How a transition changes a fact: a value; `{ add }` to a number; `{ field }` copies a field of the
 * event (or of a `done` result), `otherwise` when it is absent (no `otherwise`: the fact keeps its
 * value); `{ from: true }` records the state the operation started in (Nova's `old_vm_state`).
 */
export type FactUpdate =
  | FactValue
  | { readonly add: number }
  | { readonly field: string; readonly otherwise?: FactValue }
  | { readonly from: true };

export interface TransitionOptions {
  /** Taken only when this holds. */
  readonly when?: Guard;
  /** Facts this transition records. */
  readonly set?: Readonly<Record<string, FactUpdate>>;
}

/** What a guard or a fact update sees when a transition is considered. */
export interface GuardScope {
  /** The state the operation started in, as it will be once this transition is taken. */
  from: string;
  facts: Facts;
  /** The event's fields, or a `done` outcome's result. */
  fields: unknown;
  /** An `error` outcome's failure. */
  failure?: { name: string; cause?: unknown } | undefined;
}

const asList = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

const isFactValue = (value: unknown): value is FactValue =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

const fieldOf = (fields: unknown, name: string): unknown =>
  fields !== null && typeof fields === 'object' ? (fields as Record<string, unknown>)[name] : undefined;

export function guardHolds(guard: Guard, scope: GuardScope): boolean {
  if ('from' in guard) return asList(guard.from).includes(scope.from);
  if ('failed' in guard) {
    const names = asList(guard.failed);
    let failure: unknown = scope.failure;
    for (let depth = 0; failure && typeof failure === 'object' && depth < 6; depth++) {
      if (names.includes(String((failure as { name?: unknown }).name))) return true;
      failure = (failure as { cause?: unknown }).cause;
    }
    return false;
  }
  if ('field' in guard) return fieldOf(scope.fields, guard.field) === guard.is;
  const value = scope.facts[guard.fact] ?? null;
  if ('is' in guard && value !== guard.is) return false;
  if (guard.atLeast !== undefined && !(typeof value === 'number' && value >= guard.atLeast)) return false;
  if (guard.atMost !== undefined && !(typeof value === 'number' && value <= guard.atMost)) return false;
  return true;
}

/** The facts after a transition's `set`. */
export function applyFacts(set: Readonly<Record<string, FactUpdate>>, scope: GuardScope): Facts {
  const facts: Record<string, FactValue> = { ...scope.facts };
  for (const [name, update] of Object.entries(set)) {
    if (isFactValue(update)) facts[name] = update;
    else if ('add' in update) facts[name] = Number(facts[name] ?? 0) + update.add;
    else if ('from' in update) facts[name] = scope.from;
    else {
      const value = fieldOf(scope.fields, update.field);
      if (isFactValue(value)) facts[name] = value;
      else if (update.otherwise !== undefined) facts[name] = update.otherwise;
    }
  }
  return facts;
}

/** A guard in a few words, as diagrams and the README print it: `from ACTIVE|STOPPED`, `attachments ≥ 2`. */
export function guardText(guard: Guard): string {
  if ('from' in guard) return `from ${asList(guard.from).join('|')}`;
  if ('failed' in guard) return `failed ${asList(guard.failed).join('|')}`;
  if ('field' in guard) return `${guard.field} = ${String(guard.is)}`;
  const parts: string[] = [];
  if ('is' in guard) parts.push(`${guard.fact} = ${String(guard.is)}`);
  if (guard.atLeast !== undefined) parts.push(`${guard.fact} ≥ ${guard.atLeast}`);
  if (guard.atMost !== undefined) parts.push(`${guard.fact} ≤ ${guard.atMost}`);
  return parts.join(', ') || `${guard.fact}`;
}

/** What is wrong with a guard, if anything. */
export function guardProblems(state: string, guard: Guard, states: readonly string[]): string[] {
  if ('from' in guard) {
    return asList(guard.from)
      .filter((name) => !states.includes(name))
      .map((name) => `a guard of \`${state}\` names unknown state \`${name}\``);
  }
  if ('fact' in guard && !('is' in guard) && guard.atLeast === undefined && guard.atMost === undefined) {
    return [`a guard of \`${state}\` on fact \`${guard.fact}\` has no \`is\`, \`atLeast\` or \`atMost\``];
  }
  return [];
}

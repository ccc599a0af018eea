/**
 * A table of allowed moves, as data with a reason per row (task states, run statuses, run phases), and
 * the check built from it once. Staying in a state is a move only when a row says so.
 */
export interface Move<S extends string> {
  from: S;
  to: S;
}

/** The check for `rows`: `(from, to) => whether a row allows it`. */
export function allowedMoves<S extends string>(rows: readonly Move<S>[]): (from: S, to: S) => boolean {
  // By state, then target: the check runs on every task change, so it builds no key string.
  const allowed = new Map<S, Set<S>>();
  for (const { from, to } of rows) {
    const targets = allowed.get(from) ?? new Set<S>();
    targets.add(to);
    allowed.set(from, targets);
  }
  return (from, to) => allowed.get(from)?.has(to) === true;
}

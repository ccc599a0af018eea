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
  const allowed = new Set(rows.map((row) => `${row.from}>${row.to}`));
  return (from, to) => allowed.has(`${from}>${to}`);
}

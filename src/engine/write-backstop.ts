/**
 * The backstop for stores that ignore `deadlineMs` (see `Store`): a run write still in flight
 * `BACKSTOP_GRACE_MS` after its deadline is let go of (its writer aborts the store's signal).
 *
 * One timer serves every writer of the process, and runs only while a write is in flight: a timer set
 * and cleared per write showed in CPU profiles of short tasks, and one per writer kept every finished
 * run's timer pending for the deadline's length. A write is let go of between `BACKSTOP_GRACE_MS` and
 * `BACKSTOP_GRACE_MS + SWEEP_MS` after its deadline.
 */

/** How long past its deadline a write may stay in flight before it is let go of. */
export const BACKSTOP_GRACE_MS = 1_000;
/** How often the writes in flight are looked at. */
const SWEEP_MS = 250;

/** A writer's write in flight, as the backstop sees it. */
export interface BackstoppedWrite {
  /** When to let it go (epoch ms); set by `watchWrite`. */
  due: number;
  /** Let it go: called once, at most `SWEEP_MS` after `due`, if it is still watched then. */
  expire(): void;
}

const inFlight = new Set<BackstoppedWrite>();
let sweeper: ReturnType<typeof setInterval> | undefined;
let swept = 0;

/** Watch a write sent now with `deadlineMs` to go, until `unwatchWrite`. */
export function watchWrite(write: BackstoppedWrite, deadlineMs: number): void {
  const now = Date.now();
  write.due = now + deadlineMs + BACKSTOP_GRACE_MS;
  inFlight.add(write);
  // Armed when none is; and again when the one armed has not run for long (a blocked event loop, or a
  // timer armed under a test's fake timers since uninstalled): replacing it then is harmless.
  if (sweeper === undefined || now - swept > 8 * SWEEP_MS) {
    clearInterval(sweeper);
    swept = now;
    sweeper = setInterval(sweep, SWEEP_MS);
    // It never keeps the process alive on its own: the write it waits for does, if anything.
    sweeper.unref();
  }
}

export function unwatchWrite(write: BackstoppedWrite): void {
  inFlight.delete(write);
}

function sweep(): void {
  const now = Date.now();
  swept = now;
  for (const write of inFlight) {
    if (write.due > now) continue;
    inFlight.delete(write);
    write.expire();
  }
  if (inFlight.size > 0) return;
  clearInterval(sweeper);
  sweeper = undefined;
}
